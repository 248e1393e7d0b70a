"""Schemathesis against /api/openapi.json: every operation, with bounded, reproducible examples.

Commune A's administrator calls every operation of the document, valid and invalid input alike,
over one world where each path parameter can name a real object (tests/api/world.py) as well as
whatever schemathesis makes up. No answer may be a 5xx, and every answer must be one the document
describes: a documented status code, its content type and headers, a body matching its schema.

Schemathesis runs its three phases per operation: the document's examples, boundary values of every
parameter ("coverage") and EXAMPLES random cases; about 2,900 requests in all. The schema is read at
collection from a database-less app (schemathesis.pytest.from_fixture would be the usual way, but it
sets pytest's removed ``Node._nodeid`` and fails on pytest 9.2).

Runs on SQLite only: it checks the document against the code, which does not depend on the
backend (tenant isolation, which does, is probed on both by test_isolation_probe.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service import create_app
from service.db import database
from tests.api.world import ApiObjects, build_api_world
from tests.conftest import app_config
from tests.factories import build_world

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = 15


def _document() -> dict[str, Any]:
    """The OpenAPI document, from an app that needs no database to describe itself (read at collection)."""
    with tempfile.TemporaryDirectory() as folder:
        application = create_app(app_config("sqlite://", Path(folder)))
        document: dict[str, Any] = application.test_client().get("/api/openapi.json").json
    return document


# Commune A's slug everywhere, in every phase (the boundary-value "coverage" phase ignores hooks): a made-up
# commune is only ever a 404, and test_isolation_probe.py covers other communes.
schema = schemathesis.openapi.from_dict(_document(), config=schemathesis.Config.from_dict(
    {"parameters": {"path.commune": "cam-thanh"}}))


class Target:
    """The app under test and commune A's objects, set by the module's fixture before any example is made."""

    app: Flask
    objects: ApiObjects
    headers: dict[str, str]


@pytest.fixture(scope="module", autouse=True)
def target(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[type[Target]]:
    folder = tmp_path_factory.mktemp("schemathesis")
    path = folder / "api.db"
    path.write_bytes(sqlite_template.read_bytes())
    application = create_app(app_config(f"sqlite:///{path}", folder))
    world = build_world(application)
    Target.app = application
    Target.objects = build_api_world(application, world).a
    Target.headers = world.auth(world.a.tokens["admin"])
    yield Target
    database(application).engine.dispose()


@schema.hook
def flatmap_path_parameters(_context: Any, parameters: dict[str, Any]) -> Any:
    """Mostly commune A's real objects (so operations get past their 404), else the made-up value."""
    if not parameters:
        return st.just(parameters)
    ids = Target.objects.ids
    choices = {name: st.sampled_from([*ids.get(name, []), value]) for name, value in parameters.items()}
    if "image_id" in parameters:  # a photo is only found under its own product
        choices["product_id"] = st.sampled_from([Target.objects.image_product, parameters["product_id"]])
    return st.fixed_dictionaries(choices)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_every_operation_answers_as_documented(case: Any) -> None:
    case.call_and_validate(app=Target.app, headers=Target.headers, checks=CHECKS)
