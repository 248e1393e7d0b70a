"""Settings from environment variables (12-factor), with embedded defaults.

The embedded default runs with nothing installed but Python: a SQLite file under
``instance/``, local file storage and the built-in SQL search.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/.

    A key that changes at every start would sign everyone out; a key in the repository
    would be public. The file is the embedded default's middle way.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


# The built-in VNPay simulator's demo merchant account: public on purpose, it only ever pays pretend money.
SANDBOX_TMN_CODE = "XASODEMO"
SANDBOX_HASH_SECRET = "XASOSANDBOXDEMOSECRETNOTFORREALUSE"


def _vnpay(env: Mapping[str, str]) -> dict[str, Any]:
    """VNPay. VNPAY_SANDBOX (on unless VNPAY_TMN_CODE is set) mounts the simulator at /vnpay-sandbox, which
    plays VNPay for a demo merchant account; off, the URLs default to VNPay's own test environment and
    the platform's credentials are VNPAY_TMN_CODE and VNPAY_HASH_SECRET (a commune may have its own)."""
    sandbox = _bool(env.get("VNPAY_SANDBOX"), not env.get("VNPAY_TMN_CODE"))
    base = (f"{env.get('PUBLIC_BASE_URL', 'http://127.0.0.1:5000').rstrip('/')}/vnpay-sandbox" if sandbox
            else "https://sandbox.vnpayment.vn")
    return {
        "VNPAY_SANDBOX": sandbox,
        "VNPAY_TMN_CODE": env.get("VNPAY_TMN_CODE", SANDBOX_TMN_CODE if sandbox else ""),
        "VNPAY_HASH_SECRET": env.get("VNPAY_HASH_SECRET", SANDBOX_HASH_SECRET if sandbox else ""),
        "VNPAY_PAY_URL": env.get("VNPAY_PAY_URL", f"{base}/paymentv2/vpcpay.html"),
        "VNPAY_API_URL": env.get("VNPAY_API_URL", f"{base}/merchant_webapi/api/transaction"),
        # The simulator's IPN target; empty: the vnp_ReturnUrl's origin + /payments/vnpay/ipn.
        "VNPAY_SANDBOX_IPN_URL": env.get("VNPAY_SANDBOX_IPN_URL", ""),
        "VNPAY_TIMEOUT": float(env.get("VNPAY_TIMEOUT", "15")),
    }


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    env = os.environ
    instance_path = Path(env.get("XASO_INSTANCE_PATH", str(DEFAULT_INSTANCE)))
    development = env.get("XASO_ENV", "production") == "development"
    config: dict[str, Any] = {
        "INSTANCE_PATH": str(instance_path),
        "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{instance_path / 'xaso.db'}"),
        "REDIS_URL": env.get("REDIS_URL", ""),
        "SEARCH_BACKEND": env.get("SEARCH_BACKEND", "sql"),
        "MEILI_URL": env.get("MEILI_URL", ""),
        "MEILI_KEY": env.get("MEILI_KEY", ""),
        "MEILI_INDEX": env.get("MEILI_INDEX", "xaso_documents"),
        "MEILI_TIMEOUT": int(env.get("MEILI_TIMEOUT", "5")),
        # Where browsers send tenant-token searches (defaults to MEILI_URL), and the search-only key
        # that signs them (found or created by name when not given).
        "MEILI_PUBLIC_URL": env.get("MEILI_PUBLIC_URL", ""),
        "MEILI_SEARCH_KEY": env.get("MEILI_SEARCH_KEY", ""),
        "MEILI_SEARCH_KEY_UID": env.get("MEILI_SEARCH_KEY_UID", ""),
        # inline: relay the outbox right after the request that wrote it; worker: only `xaso outbox relay`.
        # With REDIS_URL the default is the worker: requests only enqueue a relay job (`xaso worker` runs it).
        "OUTBOX_DELIVERY": env.get("OUTBOX_DELIVERY", "worker" if env.get("REDIS_URL") else "inline"),
        # E-mail (sent by the outbox): smtp://user:pass@host:587?starttls=1 or smtps://...:465; empty writes
        # each message as an .eml file under <instance>/mail/ instead. Links in e-mails start with PUBLIC_BASE_URL.
        "SMTP_URL": env.get("SMTP_URL", ""),
        "SMTP_TIMEOUT": int(env.get("SMTP_TIMEOUT", "10")),
        "MAIL_FROM": env.get("MAIL_FROM", "XaSo <no-reply@xaso.vn>"),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        # SMS (sent by the outbox): an HTTP gateway that takes POST {"to": "+84...", "text": "..."} with a bearer
        # token; empty writes each message as a .txt file under <instance>/sms/ instead.
        "SMS_GATEWAY_URL": env.get("SMS_GATEWAY_URL", ""),
        "SMS_GATEWAY_TOKEN": env.get("SMS_GATEWAY_TOKEN", ""),
        "SMS_TIMEOUT": int(env.get("SMS_TIMEOUT", "10")),
        # Citizens' forms (field reports, questions, phone codes): per client address, against spam.
        "ENGAGEMENT_RATE_LIMIT": env.get("ENGAGEMENT_RATE_LIMIT", "10 per hour;30 per day"),
        # An Open311 client app posts for many citizens from one server: per API key and address.
        "OPEN311_RATE_LIMIT": env.get("OPEN311_RATE_LIMIT", "60 per minute;2000 per day"),
        **_vnpay(env),
        "STORAGE_BACKEND": env.get("STORAGE_BACKEND", "local"),
        # STORAGE_BACKEND=s3: the bucket (required), a key prefix, and either a public base URL (CDN)
        # that pages link to or, when empty, presigned GET URLs valid for S3_PRESIGN_SECONDS.
        "S3_BUCKET": env.get("S3_BUCKET", ""),
        "S3_PREFIX": env.get("S3_PREFIX", ""),
        "S3_REGION": env.get("S3_REGION", "ap-southeast-1"),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL", ""),
        "S3_PUBLIC_BASE_URL": env.get("S3_PUBLIC_BASE_URL", ""),
        "S3_PRESIGN_SECONDS": int(env.get("S3_PRESIGN_SECONDS", "3600")),
        "MEDIA_ROOT": env.get("MEDIA_ROOT", str(instance_path / "media")),
        # Uploads: 15 MB and 64 megapixels cover any phone photo; more is refused with a clear message.
        "MEDIA_MAX_BYTES": int(env.get("MEDIA_MAX_BYTES", str(15 * 1024 * 1024))),
        "MEDIA_MAX_PIXELS": int(env.get("MEDIA_MAX_PIXELS", str(64_000_000))),
        "MEDIA_MAX_PER_OWNER": int(env.get("MEDIA_MAX_PER_OWNER", "8")),
        # inline: variants are made in the upload request; background: by the outbox relay / worker.
        "MEDIA_PROCESSING": env.get("MEDIA_PROCESSING", "background" if env.get("REDIS_URL") else "inline"),
        # Hosts like cam-thanh.xaso.vn resolve to the commune; empty disables host routing.
        "TENANT_BASE_DOMAIN": env.get("TENANT_BASE_DOMAIN", ""),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en"),
        # Cookies are Secure unless explicitly relaxed (the local dev server speaks plain HTTP).
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), not development),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 14,
        "WTF_CSRF_TIME_LIMIT": None,
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "5 per minute;30 per hour"),
        # Background jobs: RQ queues on REDIS_URL (a worker runs them: `xaso worker`); without it, inline.
        "JOB_QUEUE": env.get("JOB_QUEUE", "xaso"),
        # Behind a load balancer / ingress: how many proxies' X-Forwarded-* headers to trust (werkzeug ProxyFix).
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        # Logs: one JSON object per line (production) or plain text (development).
        "LOG_FORMAT": env.get("LOG_FORMAT", "text" if development else "json"),
        # /metrics (Prometheus): open when empty, else requires Authorization: Bearer <METRICS_TOKEN>.
        "METRICS_TOKEN": env.get("METRICS_TOKEN", ""),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", env.get("REDIS_URL") or "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(20 * 1024 * 1024))),
        "API_TITLE": "XaSo API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": env.get(
            "OPENAPI_SWAGGER_UI_URL", "https://cdn.jsdelivr.net/npm/swagger-ui-dist/"
        ),
        "API_PAGE_SIZE_MAX": 100,
        "DEVELOPMENT": development,
        "TESTING": False,
    }
    config.update(overrides or {})
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = _secret_key(Path(config["INSTANCE_PATH"]))
    return config
