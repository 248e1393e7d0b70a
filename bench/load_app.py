"""WSGI entry of the load test (``bench/load.py``): the real app, configured for a benchmark.

Benchmark configuration, not production: CSRF is off so a load generator can post the cart and
checkout forms without scraping tokens, and rate limiting is off so one client address may send
thousands of requests. Everything else (database, tenancy, templates, outbox) is as deployed;
the settings come from the environment that ``bench/load.py`` gives gunicorn.
"""

from service import create_app

app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
