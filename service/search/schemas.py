"""Marshmallow schemas of the search API."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_load, validate

from service.core.api import MAX_ID
from service.core.money import format_vnd
from service.core.pagination import MAX_PAGE
from service.search.backend import SORTS


class SearchArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=200), metadata={"description": "Words to find"})
    kind = fields.String(metadata={"description": "Only this kind of document, e.g. `product`"})
    category = fields.String(metadata={"description": "Category slug"})
    ocop_stars = fields.List(fields.Integer(validate=validate.OneOf([3, 4, 5])), load_default=list,
                             metadata={"description": "OCOP rating; repeat for several"})
    price_min = fields.Integer(validate=validate.Range(min=0, max=MAX_ID),
                               metadata={"description": "Lowest price, đồng"})
    price_max = fields.Integer(validate=validate.Range(min=0, max=MAX_ID),
                               metadata={"description": "Highest price, đồng"})
    sort = fields.String(load_default="relevance", validate=validate.OneOf(SORTS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))

    @post_load
    def _stars_tuple(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data["ocop_stars"] = tuple(data.get("ocop_stars") or ())
        return data


class SuggestArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(required=True, validate=validate.Length(min=1, max=100))
    limit = fields.Integer(load_default=8, validate=validate.Range(min=1, max=20))


class CommuneRefSchema(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)


class SearchHitSchema(Schema):
    kind = fields.String(required=True)
    id = fields.Integer(required=True, attribute="object_id")
    title = fields.String(required=True)
    url = fields.String(required=True)
    price = fields.Integer(allow_none=True)
    price_display = fields.Function(lambda hit: format_vnd(hit.price) if hit.price is not None else None)
    ocop_stars = fields.Integer(allow_none=True)
    category = fields.String(allow_none=True, attribute="category_slug")
    seller = fields.String(allow_none=True, attribute="seller_name")
    commune = fields.Function(lambda hit: {"slug": hit.commune_slug, "name": hit.commune_name})
    published_at = fields.DateTime(allow_none=True)
    score = fields.Float()


class FacetValueSchema(Schema):
    value = fields.String(required=True)
    label = fields.String(required=True)
    count = fields.Integer(required=True)


class SearchResultSchema(Schema):
    data = fields.List(fields.Nested(SearchHitSchema), required=True, attribute="hits")
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    facets = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(FacetValueSchema)))


class SuggestionsSchema(Schema):
    data = fields.List(fields.String(), required=True)


class SearchTokenSchema(Schema):
    host = fields.String(required=True, metadata={"description": "Meilisearch URL for the browser"})
    index = fields.String(required=True)
    token = fields.String(required=True, metadata={"description": "Tenant token (JWT), search only"})
    expires_at = fields.DateTime(required=True)
