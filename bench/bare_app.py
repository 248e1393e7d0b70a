"""The load test's baseline: a bare Flask endpoint, served by the same gunicorn settings as the app."""

from flask import Flask

app = Flask(__name__)


@app.get("/bare")
def bare() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
