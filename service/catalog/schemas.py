"""Marshmallow schemas for the catalog: inputs are shared by the API and the HTML forms."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from service.core.money import MAX_PRICE_VND


class FormFriendlySchema(Schema):
    """Blank form fields mean "no value" (None), not an empty string that fails to parse."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _blank_to_none(self, data: Any, **_kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        cleaned = {}
        for key, value in data.items():
            field = self.fields.get(key)
            if isinstance(value, str) and value.strip() == "" and field is not None and (
                not isinstance(field, fields.String)
            ):
                value = None
            cleaned[key] = value
        return cleaned


class ProductInSchema(FormFriendlySchema):
    seller_id = fields.Integer(required=True, strict=False)
    category_id = fields.Integer(allow_none=True)
    title_vi = fields.String(required=True, validate=validate.Length(min=1, max=150))
    title_en = fields.String(load_default="", validate=validate.Length(max=150))
    description_vi = fields.String(load_default="", validate=validate.Length(max=5000))
    description_en = fields.String(load_default="", validate=validate.Length(max=5000))
    price = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_PRICE_VND))
    unit = fields.String(load_default="", validate=validate.Length(max=40))
    stock = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))
    ocop_stars = fields.Integer(allow_none=True, load_default=None, validate=validate.OneOf([3, 4, 5]))
    ocop_certificate_number = fields.String(load_default="", validate=validate.Length(max=60))
    ocop_certificate_year = fields.Integer(allow_none=True, load_default=None,
                                           validate=validate.Range(min=2018, max=2100))
    is_featured = fields.Boolean(load_default=False)


class ProductPatchSchema(ProductInSchema):
    """Every field optional; only those sent are changed."""

    class Meta:
        unknown = EXCLUDE

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)


class StatusChangeSchema(Schema):
    action = fields.String(required=True,
                           validate=validate.OneOf(["submit", "approve", "reject", "archive", "restore"]))
    note = fields.String(load_default="", validate=validate.Length(max=500))


class SellerInSchema(FormFriendlySchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=160))
    phone = fields.String(load_default="", validate=validate.Regexp(r"^[0-9+ .-]{0,20}$"))
    village = fields.String(load_default="", validate=validate.Length(max=120))
    description_vi = fields.String(load_default="", validate=validate.Length(max=2000))
    description_en = fields.String(load_default="", validate=validate.Length(max=2000))
    user_id = fields.Integer(allow_none=True, load_default=None)
    assisted_listing_consent = fields.Boolean(load_default=False)
    consent_note = fields.String(load_default="", validate=validate.Length(max=300))
    is_active = fields.Boolean(load_default=True)


class CategoryInSchema(FormFriendlySchema):
    name_vi = fields.String(required=True, validate=validate.Length(min=1, max=120))
    name_en = fields.String(load_default="", validate=validate.Length(max=120))
    position = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000))
