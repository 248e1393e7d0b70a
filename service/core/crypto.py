"""Secrets at rest (a commune's VNPay hash secret, webhook signing secrets): Fernet (AES-128-CBC + HMAC).

The key is ``DATA_ENCRYPTION_KEY`` (a Fernet key) when set, else derived from ``SECRET_KEY``,
so the embedded default needs no extra setting; production sets its own and can rotate it by
listing the old key after the new one (comma-separated, MultiFernet).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


def _fernet(key_setting: str, secret_key: str) -> MultiFernet:
    if key_setting:
        return MultiFernet([Fernet(key.strip().encode()) for key in key_setting.split(",") if key.strip()])
    derived = base64.urlsafe_b64encode(hashlib.sha256(b"xaso-data-key:" + secret_key.encode()).digest())
    return MultiFernet([Fernet(derived)])


def cipher() -> MultiFernet:
    config = current_app.config
    return _fernet(config.get("DATA_ENCRYPTION_KEY", ""), config["SECRET_KEY"])


def encrypt(plaintext: str) -> str:
    return cipher().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(token: str) -> str:
    """The plaintext, or a RuntimeError naming the likely cause (a changed key)."""
    if not token:
        return ""
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise RuntimeError("a stored secret cannot be decrypted: was DATA_ENCRYPTION_KEY or SECRET_KEY changed?") \
            from error
