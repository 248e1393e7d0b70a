"""Placeholder: filled in by the tenants views work."""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> list[Blueprint]:
    return []
