"""Citizen engagement: field reports (Open311 GeoReport v2), announcements, polls and Q&A."""
