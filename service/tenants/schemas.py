"""Marshmallow schemas for communes: branding input is shared by the API and the admin form."""

from __future__ import annotations

from marshmallow import fields, validate

from service.catalog.schemas import FormFriendlySchema


class BrandingInSchema(FormFriendlySchema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    district = fields.String(validate=validate.Length(max=120))
    province = fields.String(validate=validate.Length(max=120))
    tagline_vi = fields.String(validate=validate.Length(max=200))
    tagline_en = fields.String(validate=validate.Length(max=200))
    story_vi = fields.String(validate=validate.Length(max=10_000))
    story_en = fields.String(validate=validate.Length(max=10_000))
    primary_color = fields.String(validate=validate.Regexp(r"^#[0-9a-fA-F]{6}$"))
