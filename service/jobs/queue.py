"""Background jobs: RQ on Redis when REDIS_URL is set, inline otherwise. (filled by the issue-9 work)"""
