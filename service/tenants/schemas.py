"""Marshmallow schemas for communes: branding input is shared by the API and the admin form."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.catalog.schemas import FormFriendlySchema


def _media_url(key: str | None) -> str | None:
    from service.media.web import media_url  # late: needs the app and its storage

    return media_url(key)

class BrandingInSchema(FormFriendlySchema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    district = fields.String(validate=validate.Length(max=120))
    province = fields.String(validate=validate.Length(max=120))
    tagline_vi = fields.String(validate=validate.Length(max=200))
    tagline_en = fields.String(validate=validate.Length(max=200))
    story_vi = fields.String(validate=validate.Length(max=10_000))
    story_en = fields.String(validate=validate.Length(max=10_000))
    primary_color = fields.String(validate=validate.Regexp(r"^#[0-9a-fA-F]{6}$"))


class TenantOutSchema(Schema):
    """A commune's public face, as the JSON API shows it."""

    slug = fields.String(required=True)
    name = fields.String(required=True)
    district = fields.String()
    province = fields.String()
    tagline_vi = fields.String()
    tagline_en = fields.String()
    story_vi = fields.String()
    story_en = fields.String()
    primary_color = fields.String()
    cover_url = fields.Function(lambda t: _media_url(t.cover_key), allow_none=True)
    url = fields.Function(lambda t: f"/c/{t.slug}/", metadata={"description": "The commune's home page"})
    api_url = fields.Function(lambda t: f"/api/v1/communes/{t.slug}")


class TenantListSchema(Schema):
    data = fields.List(fields.Nested(TenantOutSchema), required=True)
