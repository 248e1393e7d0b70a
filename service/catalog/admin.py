"""Placeholder: filled in by the admin work."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> list[Blueprint]:
    return []
