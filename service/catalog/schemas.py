"""Marshmallow schemas for the catalog: inputs are shared by the API and the HTML forms."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from service.catalog.models import ProductStatus
from service.core.api import RowId
from service.core.money import MAX_PRICE_VND, format_vnd
from service.core.pagination import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE


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


class WholeNumber(fields.Integer):
    """An integer that refuses fractions (1.5) and booleans instead of rounding them."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise self.make_error("invalid")
        return super()._validated(value)


def _check_gtin(value: str) -> None:
    from service.catalog.services import valid_gtin  # late: services import these schemas' module tree

    if value.strip() and not valid_gtin(value.strip()):
        raise ValidationError("Must be 8, 12, 13 or 14 digits with a valid GS1 check digit.")


class ProductInSchema(FormFriendlySchema):
    seller_id = RowId(required=True, strict=False)
    category_id = RowId(allow_none=True)
    title_vi = fields.String(required=True, validate=validate.Length(min=1, max=150))
    title_en = fields.String(load_default="", validate=validate.Length(max=150))
    description_vi = fields.String(load_default="", validate=validate.Length(max=5000))
    description_en = fields.String(load_default="", validate=validate.Length(max=5000))
    price = WholeNumber(required=True, validate=validate.Range(min=0, max=MAX_PRICE_VND))
    unit = fields.String(load_default="", validate=validate.Length(max=40))
    stock = WholeNumber(load_default=0, validate=validate.Range(min=0, max=10_000_000))
    ocop_stars = fields.Integer(allow_none=True, load_default=None, validate=validate.OneOf([3, 4, 5]))
    ocop_certificate_number = fields.String(load_default="", validate=validate.Length(max=60))
    ocop_certificate_year = fields.Integer(allow_none=True, load_default=None,
                                           validate=validate.Range(min=2018, max=2100))
    is_featured = fields.Boolean(load_default=False)
    # For marketplace feeds: brand ("" = the seller's name), barcode, shipping weight.
    brand = fields.String(load_default="", validate=validate.Length(max=70),
                          metadata={"description": "Brand; empty means the seller's name"})
    gtin = fields.String(load_default="", validate=_check_gtin,
                         metadata={"description": "Barcode: GTIN-8/12/13/14 with a valid check digit, or empty"})
    weight_grams = WholeNumber(allow_none=True, load_default=None, validate=validate.Range(min=1, max=1_000_000),
                               metadata={"description": "Shipping weight in grams"})


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
    user_id = RowId(allow_none=True, load_default=None)
    assisted_listing_consent = fields.Boolean(load_default=False)
    consent_note = fields.String(load_default="", validate=validate.Length(max=300))
    is_active = fields.Boolean(load_default=True)
    # Where VietQR transfers for the seller's sales go; all three, or none (empty strings).
    bank_bin = fields.String(load_default="", validate=validate.Length(max=6),
                             metadata={"description": "NAPAS BIN of the bank (6 digits, e.g. 970405 Agribank)"})
    bank_account_number = fields.String(load_default="", validate=validate.Length(max=30),
                                        metadata={"description": "6 to 19 digits (spaces, dots, hyphens dropped)"})
    bank_account_name = fields.String(load_default="", validate=validate.Length(max=70),
                                      metadata={"description": "Holder as the bank shows it; stored in capitals "
                                                               "without marks (NGUYEN THI TU)"})


class CategoryInSchema(FormFriendlySchema):
    name_vi = fields.String(required=True, validate=validate.Length(min=1, max=120))
    name_en = fields.String(load_default="", validate=validate.Length(max=120))
    position = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000))


# ---------------------------------------------------------------------------
# Partial inputs for PATCH, query arguments and output schemas


class SellerPatchSchema(SellerInSchema):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)


class CategoryPatchSchema(CategoryInSchema):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)


class PageArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE),
                          metadata={"description": "Page, from 1"})
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE),
                              metadata={"description": f"Items per page, at most {MAX_PER_PAGE}"})


class ProductListArgsSchema(PageArgsSchema):
    scope = fields.String(load_default="public", validate=validate.OneOf(["public", "manage"]),
                          metadata={"description": "public: published products; manage (needs a token): "
                                                   "every product you may manage"})
    category = fields.String(metadata={"description": "Category slug (public scope)"})
    seller = fields.String(metadata={"description": "Seller slug (public scope)"})
    ocop_stars = fields.List(fields.Integer(validate=validate.OneOf([3, 4, 5])),
                             metadata={"description": "OCOP rating; repeat for several (public scope)"})
    sort = fields.String(load_default="newest", validate=validate.OneOf(["newest", "price_asc", "price_desc", "name"]))
    status = fields.String(validate=validate.OneOf([s.value for s in ProductStatus]),
                           metadata={"description": "Status (manage scope)"})
    seller_id = RowId(metadata={"description": "Seller id (manage scope)"})


class AuditArgsSchema(PageArgsSchema):
    seller_id = RowId(metadata={"description": "Entries made on behalf of this seller"})
    object_type = fields.String(validate=validate.Length(max=40))
    object_id = RowId()


class PageSchema(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    has_more = fields.Boolean(required=True)


class RefSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class CategoryOutSchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name_vi = fields.String(required=True)
    name_en = fields.String(required=True)
    position = fields.Integer()


class CategoryRefSchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name_vi = fields.String(required=True)
    name_en = fields.String(required=True)


class CategoryListSchema(Schema):
    data = fields.List(fields.Nested(CategoryOutSchema), required=True)


def _media_url(key: str | None) -> str | None:
    from service.media.web import media_url  # late: needs the app and its storage

    return media_url(key)


def _current_actor() -> Any:
    from service.tenants.web import current_actor  # late: the web layer imports the catalog

    return current_actor()


def _commune_slug(obj: Any) -> str:
    from service.tenants.web import current_tenant

    tenant = current_tenant()
    return tenant.slug if tenant is not None and tenant.id == obj.tenant_id else ""


class ProductOutSchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    url = fields.Method("_url", metadata={"description": "Public page of the product"})
    status = fields.Enum(ProductStatus, by_value=True, required=True)
    title_vi = fields.String(required=True)
    title_en = fields.String()
    description_vi = fields.String()
    description_en = fields.String()
    price = fields.Integer(required=True, metadata={"description": "Whole đồng (VND has no minor unit)"})
    price_display = fields.Function(lambda p: format_vnd(p.price), metadata={"example": "150.000 ₫"})
    unit = fields.String()
    stock = fields.Integer()
    ocop_stars = fields.Integer(allow_none=True)
    ocop_certificate_number = fields.String()
    ocop_certificate_year = fields.Integer(allow_none=True)
    is_featured = fields.Boolean()
    brand = fields.String()
    gtin = fields.String()
    weight_grams = fields.Integer(allow_none=True)
    cover_url = fields.Function(lambda p: _media_url(p.cover_key), allow_none=True)
    seller = fields.Nested(RefSchema, required=True)
    category = fields.Nested(CategoryRefSchema, allow_none=True)
    review_note = fields.Method("_review_note", allow_none=True,
                                metadata={"description": "The reviewer's note; only for those who manage it"})
    actions = fields.Method("_actions", metadata={"description": "Workflow actions you may take now"})
    published_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def _url(self, product: Any) -> str:
        return f"/c/{_commune_slug(product)}/products/{product.slug}"

    def _review_note(self, product: Any) -> str | None:
        from service.catalog.services import can_act_for

        return product.review_note if can_act_for(_current_actor(), product.seller) else None

    def _actions(self, product: Any) -> list[str]:
        from service.catalog.services import available_actions

        return available_actions(_current_actor(), product)


class ProductPageSchema(PageSchema):
    data = fields.List(fields.Nested(ProductOutSchema), required=True)


class SellerOutSchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    phone = fields.String()
    village = fields.String()
    description_vi = fields.String()
    description_en = fields.String()
    user_id = fields.Integer(allow_none=True)
    assisted_listing_consent = fields.Boolean()
    consent_note = fields.String()
    consent_recorded_at = fields.DateTime(allow_none=True)
    is_active = fields.Boolean()
    bank_bin = fields.String()
    bank_account_number = fields.String()
    bank_account_name = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class SellerPageSchema(PageSchema):
    data = fields.List(fields.Nested(SellerOutSchema), required=True)


class AuditEntryOutSchema(Schema):
    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    action = fields.String(required=True)
    actor_user_id = fields.Integer(allow_none=True)
    actor_name = fields.Function(lambda e: e.actor.name if e.actor else None, allow_none=True)
    actor_role = fields.String()
    on_behalf_of_seller_id = fields.Integer(allow_none=True)
    object_type = fields.String()
    object_id = fields.Integer(allow_none=True)
    changes = fields.Dict()


class AuditPageSchema(PageSchema):
    data = fields.List(fields.Nested(AuditEntryOutSchema), required=True)
