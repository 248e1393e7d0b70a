"""The tenant-isolation probe: every operation of the OpenAPI document, aimed at another commune.

The list of operations comes from /api/openapi.json itself, so a new route is probed (or must be
exempted here, with a reason) without anyone remembering to. Commune A's administrator then tries:

* A's URL with B's objects in the path (ids, and public ids such as ``pi_...``) or in the body: 404 with
  the JSON error body, reads and writes alike;
* B's URL with B's objects: routes that need a token answer 404 (B's private data is not even
  acknowledged to outsiders); public routes answer exactly what an anonymous visitor gets;
* A's own collections: nothing of B in them.

After each write, none of B's rows may have changed. Runs on both backends: on PostgreSQL the row-level
security policies are part of what is probed.
"""

from __future__ import annotations

import io
import json
from typing import Any

from sqlalchemy import select

from service.db import PLATFORM, Base, database
from tests.api.world import ApiObjects, build_api_world
from tests.media.imagegen import encode, photo

# Operations without a commune in the URL: nothing commune-scoped to aim at another commune.
EXEMPT = {
    "POST /api/v1/auth/tokens": "signs a user in; no commune in the URL",
    "GET /api/v1/me": "the caller's own account and memberships",
    "GET /api/v1/communes": "the public list of every commune",
    "GET /api/v1/search": "public search across all communes, by design",
    "GET /api/v1/search/suggest": "public suggestions across all communes, by design",
}

# A valid body for every write, so that the answer is the lookup's and not input validation's.
# "{name}" stands for commune B's object of that path parameter name.
JSON_BODIES: dict[str, dict[str, Any]] = {
    "PATCH /api/v1/communes/{commune}": {"name": "Chiếm quyền"},
    "POST /api/v1/communes/{commune}/products": {"seller_id": "{seller_id}", "category_id": "{category_id}",
                                                  "title_vi": "Hàng lậu", "price": 1},
    "PATCH /api/v1/communes/{commune}/products/{product_id}": {"price": 1},
    "POST /api/v1/communes/{commune}/products/{product_id}/status": {"action": "archive"},
    "PATCH /api/v1/communes/{commune}/products/{product_id}/images/{image_id}": {"alt_vi": "Lậu", "position": 0},
    "DELETE /api/v1/communes/{commune}/products/{product_id}/images/{image_id}": {},
    "POST /api/v1/communes/{commune}/sellers": {"name": "Cơ sở lậu", "assisted_listing_consent": True},
    "PATCH /api/v1/communes/{commune}/sellers/{seller_id}": {"name": "Cơ sở lậu"},
    "POST /api/v1/communes/{commune}/categories": {"name_vi": "Lậu"},
    "PATCH /api/v1/communes/{commune}/categories/{category_id}": {"name_vi": "Lậu"},
    "DELETE /api/v1/communes/{commune}/categories/{category_id}": {},
    "POST /api/v1/communes/{commune}/payment_intents": {"amount": 1_000},
    "POST /api/v1/communes/{commune}/payment_intents/{intent_id}/confirm": {"payment_method": "cod"},
    "POST /api/v1/communes/{commune}/payment_intents/{intent_id}/cancel": {},
    "POST /api/v1/communes/{commune}/refunds": {"payment_intent": "{paid_intent}", "amount": 1_000},
    "POST /api/v1/communes/{commune}/webhook_endpoints": {"url": "https://hooks.example.vn/lau"},
    "DELETE /api/v1/communes/{commune}/webhook_endpoints/{public_id}": {},
}
# Public answers that differ on every call (a fresh short-lived token, or 404 without Meilisearch):
# compared by status only, and not required to be 200 under A's URL.
NONDETERMINISTIC = {"GET /api/v1/communes/{commune}/search/token"}
# Required query parameters: words both communes' products share, so a leak would show.
QUERIES = {"GET /api/v1/communes/{commune}/search": "q=mam", "GET /api/v1/communes/{commune}/search/suggest": "q=mam"}
MULTIPART = {"POST /api/v1/communes/{commune}/products/{product_id}/images"}
# Query parameters naming objects, filled with B's on A's URL.
QUERY_PROBES = {
    "GET /api/v1/communes/{commune}/products": "scope=manage&seller_id={seller_id}",
    "GET /api/v1/communes/{commune}/audit": "seller_id={seller_id}",
    "GET /api/v1/communes/{commune}/refunds": "payment_intent={paid_intent}",
    "GET /api/v1/communes/{commune}/payment_intents": "starting_after={intent_id}",
    "GET /api/v1/communes/{commune}/events": "ending_before={event_id}",
    "GET /api/v1/communes/{commune}/webhook_endpoints": "starting_after={public_id}",
}


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, operation) for path, item in spec["paths"].items()
            for method, operation in item.items() if method != "parameters"]


def _needs_token(operation: dict[str, Any]) -> bool:
    security = operation.get("security") or [{}]
    return {} not in security


def _b_values(objects: ApiObjects) -> dict[str, str]:
    """One of B's objects per path parameter: the published product, which B shows to anyone."""
    values = {name: str(ids[0]) for name, ids in objects.ids.items()}
    values["product_id"] = str(objects.image_product)
    values["paid_intent"] = objects.paid_intent
    return values


def _fill(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, dict):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, str) and template.startswith("{") and template.endswith("}"):
        value = values[template[1:-1]]
        return int(value) if value.isdigit() else value
    return template


def _request(method: str, path: str, key: str, values: dict[str, str]) -> dict[str, Any]:
    query = QUERIES.get(key)
    kwargs: dict[str, Any] = {"method": method, "path": path.format(**values) + (f"?{query}" if query else "")}
    if key in MULTIPART:
        picture = encode(photo(64, 48, seed=7), "JPEG")
        kwargs |= {"data": {"file": (io.BytesIO(picture), "lau.jpg")}, "content_type": "multipart/form-data"}
    elif key in JSON_BODIES:
        kwargs["json"] = _fill(JSON_BODIES[key], values)
    return kwargs


def _names_b(key: str) -> bool:
    """Whether the request under A's URL names one of B's objects (else it is A's legitimate own use)."""
    path_names = {part for part in key.split("/") if part.startswith("{")} - {"{commune}"}
    return bool(path_names) or '"{' in json.dumps(JSON_BODIES.get(key, {}))


def _snapshot(app: Any, tenant_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row commune B owns, table by table."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with database(app).session(PLATFORM) as session:
        for table in Base.metadata.sorted_tables:
            if "tenant_id" in table.c:
                stmt = select(table).where(table.c.tenant_id == tenant_id).order_by(*table.primary_key.columns)
                rows[table.name] = [tuple(row) for row in session.execute(stmt)]
    return rows


def _problem(response: Any, expected: int) -> str | None:
    if response.status_code != expected:
        return f"answered {response.status_code}, not {expected}: {response.get_data(as_text=True)[:200]}"
    if expected >= 400 and not (response.is_json and set(response.json.get("error", {})) >= {"code", "message"}):
        return f"{expected} without the JSON error body: {response.get_data(as_text=True)[:200]}"
    return None


def test_every_operation_is_isolated_from_the_other_commune(app, world, client):
    api_world = build_api_world(app, world)
    a_slug, b = world.a.slug, api_world.b
    b_values = _b_values(b)
    token = world.auth(world.a.tokens["admin"])
    spec = client.get("/api/openapi.json").json
    problems: list[str] = []
    probed: set[str] = set()

    def probe(key: str, request: dict[str, Any], expected: int | None, *, headers: dict[str, str]) -> Any:
        before = _snapshot(app, world.b.id) if request["method"] != "GET" else None
        response = client.open(headers=headers, **request)
        where = f"{key} as {request['method']} {request['path']}"
        if expected is not None and (problem := _problem(response, expected)):
            problems.append(f"{where}: {problem}")
        if before is not None and _snapshot(app, world.b.id) != before:
            problems.append(f"{where}: changed commune B's rows")
        probed.add(key)
        return response

    for method, path, operation in _operations(spec):
        key = f"{method} {path}"
        if key in EXEMPT:
            continue
        if method != "GET" and key not in JSON_BODIES and key not in MULTIPART:
            problems.append(f"{key}: a write without a probe body; add one to JSON_BODIES")
            continue
        # A's URL, B's objects in the path or the body: as if they did not exist.
        if _names_b(key):
            probe(key, _request(method, path, key, {**b_values, "commune": a_slug}), 404, headers=token)
        # A's URL, B's objects in the query string: 404 (unknown cursor) or, for filters, nothing of B.
        if key in QUERY_PROBES:
            request = _request(method, path, key, {**b_values, "commune": a_slug})
            request["path"] += "?" + QUERY_PROBES[key].format(**b_values)
            response = probe(key, request, None, headers=token)
            if response.status_code == 200:
                if response.json.get("total", len(response.json.get("data", []))) != 0:
                    problems.append(f"{key}: A's list filtered by B's object is not empty: {response.json}")
            elif response.status_code not in (404, 422):
                problems.append(f"{key}: B's object as a cursor answered {response.status_code}")
        # A's own collections: none of B's objects in them.
        if method == "GET" and not _names_b(key):
            expected = None if key in NONDETERMINISTIC else 200
            response = probe(key, _request(method, path, key, {"commune": a_slug}), expected, headers=token)
            text = response.get_data(as_text=True)
            leaked = [value for value in b_values.values() if not value.isdigit() and value in text]
            if "Nam Phước" in text or leaked:
                problems.append(f"{key}: A's collection shows B's data {leaked}")
        # B's URL with A's token: private routes deny B's existence, public ones give only what anyone sees.
        request = _request(method, path, key, {**b_values, "commune": b.slug})
        if _needs_token(operation):
            probe(key, request, 404, headers=token)
        else:
            with_token = probe(key, request, None, headers=token)
            anonymous = client.open(**_request(method, path, key, {**b_values, "commune": b.slug}))
            compared = (lambda r: r.status_code) if key in NONDETERMINISTIC else (lambda r: (r.status_code, r.json))
            if compared(with_token) != compared(anonymous):
                problems.append(f"{key}: A's token in B's URL sees more than a visitor: {with_token.json}")

    missing = {f"{m} {p}" for m, p, _ in _operations(spec)} - probed - set(EXEMPT)
    assert not missing, f"operations neither probed nor exempted: {sorted(missing)}"
    assert not problems, "\n".join(problems)
    assert len(probed) + len(EXEMPT) == len(_operations(spec))

