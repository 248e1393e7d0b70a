"""Run every benchmark: ``python -m bench``."""

from bench import catalog_listing, dashboard, feeds, load, media, search

if __name__ == "__main__":
    catalog_listing.main()
    search.main()
    media.main()
    feeds.main()
    dashboard.main()
    load.main()
