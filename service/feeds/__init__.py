"""Marketplace export feeds (Google Merchant XML, CSV per marketplace, JSON), sitemaps and QR codes."""
