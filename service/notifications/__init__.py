"""Notifications to people outside the platform: e-mails to buyers, sent through the outbox."""
