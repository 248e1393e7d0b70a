"""Search: a generic index of documents (products today; homestays, places, articles later)."""
