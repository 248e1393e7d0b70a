"""Background work: the transactional outbox and the jobs that deliver it."""
