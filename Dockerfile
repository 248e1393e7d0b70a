# syntax=docker/dockerfile:1
# XaSo container image: one image for every role (web, worker, scheduler, migration job).
#   docker build -t xaso:0.1.0 .
#   docker run -p 8000:8000 -e SECRET_KEY=... -e DATABASE_URL=postgresql+psycopg://... xaso:0.1.0
# No secret is baked in: every credential comes from the environment at run time (see docs/deploy.md).

ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: compile wheels and the translations into a virtualenv --------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Build tools only for the rare dependency without a manylinux wheel (argon2-cffi, cffi on new Pythons);
# Pillow and psycopg[binary] ship their native libraries (libjpeg, zlib, libpq) inside their wheels.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /app

# Dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p service \
    && touch service/__init__.py \
    && pip install --upgrade pip setuptools wheel \
    && pip wheel --wheel-dir /tmp/wheels . \
    && rm /tmp/wheels/xaso-*.whl \
    && pip install --no-index /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels service

COPY service ./service
COPY migrations ./migrations
COPY frontend_templates ./frontend_templates
COPY gunicorn.conf.py ./

# The app finds its templates and migrations next to the package (service/__init__.py, service/migrate.py),
# so the package stays in /app and the venv only points at it (editable install: the `xaso` command).
# Bytecode is compiled here: the pods' root filesystem is read-only, so Python could not cache it there.
RUN pip install --no-deps --no-build-isolation -e . \
    && if ls service/translations/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
           pybabel compile -d service/translations -f; fi \
    && python -m compileall -q service migrations gunicorn.conf.py

# ---- runtime: slim, non-root, nothing but the venv and the app ---------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="XaSo" \
      org.opencontainers.image.description="The digital commune: catalogs, payments and engagement for Vietnamese communes" \
      org.opencontainers.image.licenses="proprietary"

RUN groupadd --system --gid 10001 xaso \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin xaso

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XASO_INSTANCE_PATH=/tmp/xaso \
    LOG_FORMAT=json \
    PORT=8000

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder --chown=root:root /app /app

WORKDIR /app
# The code is owned by root and read-only for the app user; the only writable place is /tmp
# (an emptyDir in Kubernetes, so the root filesystem can be mounted read-only).
USER 10001:10001

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request, sys; r = urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4); sys.exit(0 if r.status == 200 else 1)"]

# Web by default; the worker, scheduler and migration job override the command (see helm/xaso).
CMD ["gunicorn", "-c", "gunicorn.conf.py", "service:create_app()"]
