"""Language: Vietnamese by default, English with ?lang=en (remembered in a cookie)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask_babel import Babel, get_locale

LANG_COOKIE = "lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked and asked in languages:
        return asked
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "vi"


def localized(obj: Any, field: str) -> str:
    """obj.<field>_en in English when filled in, else the Vietnamese original."""
    if current_language() == "en":
        english = getattr(obj, f"{field}_en", "") or ""
        if english.strip():
            return english
    return getattr(obj, f"{field}_vi", "") or ""


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")

    @app.after_request
    def _remember_language(response: Any) -> Any:
        asked = request.args.get("lang")
        if asked in app.config["LANGUAGES"] and request.cookies.get(LANG_COOKIE) != asked:
            response.set_cookie(LANG_COOKIE, asked, max_age=365 * 24 * 3600, samesite="Lax",
                                secure=app.config["SESSION_COOKIE_SECURE"])
        return response
