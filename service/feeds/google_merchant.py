"""(filled by the issue-8 work)"""
