"""The back office's first page: a staff dashboard of the commune's brand, and a seller's own dashboard."""
