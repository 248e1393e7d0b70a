"""Marshmallow schemas of images in the API."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from service.media.models import MediaAttachment


class ImageUploadSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary",
                                               "description": "A JPEG, PNG or WebP photo"})


class ImageFormSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    alt_vi = fields.String(validate=validate.Length(max=300), metadata={"description": "Alt text, Vietnamese"})
    alt_en = fields.String(validate=validate.Length(max=300), metadata={"description": "Alt text, English"})


class ImagePatchSchema(ImageFormSchema):
    position = fields.Integer(validate=validate.Range(min=0, max=99),
                              metadata={"description": "New place in the order; 0 makes it the cover"})


class VariantSchema(Schema):
    width = fields.Integer(required=True)
    height = fields.Integer(required=True)
    format = fields.String(required=True, metadata={"description": "`webp` or `jpeg`"})
    url = fields.String(required=True)


def _variants(attachment: MediaAttachment) -> list[dict[str, Any]]:
    from service.media.storage import get_storage

    storage = get_storage()
    return [{**variant, "url": storage.url(variant["key"])} for variant in attachment.asset.variants]


class ImageOutSchema(Schema):
    id = fields.Integer(required=True, attribute="asset_id")
    position = fields.Integer(required=True)
    is_cover = fields.Function(lambda a: a.position == 0)
    status = fields.Function(lambda a: a.asset.status.value, metadata={"description": "processing, ready, failed"})
    error = fields.Function(lambda a: a.asset.error or None, allow_none=True)
    width = fields.Function(lambda a: a.asset.width, allow_none=True)
    height = fields.Function(lambda a: a.asset.height, allow_none=True)
    bytes = fields.Function(lambda a: a.asset.bytes, metadata={"description": "Size of the upload"})
    alt_vi = fields.Function(lambda a: a.asset.alt_vi)
    alt_en = fields.Function(lambda a: a.asset.alt_en)
    variants = fields.Function(_variants, metadata={"description": "Resized copies, without any metadata"})


class ImageListSchema(Schema):
    data = fields.List(fields.Nested(ImageOutSchema), required=True)
