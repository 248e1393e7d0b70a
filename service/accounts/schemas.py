"""Marshmallow schemas of the accounts part of the JSON API."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class TokenInSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=1024))
    name = fields.String(load_default="", validate=validate.Length(max=80),
                         metadata={"description": "A label to recognise the token by, e.g. the device"})


class UserOutSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    phone = fields.String()
    is_platform_admin = fields.Boolean()


class TokenOutSchema(Schema):
    token = fields.String(required=True, metadata={"description": "Shown once; send as `Authorization: Bearer ...`"})
    user = fields.Nested(UserOutSchema, required=True)


class MembershipOutSchema(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(["admin", "editor", "volunteer", "seller"]))
    url = fields.String()
    api_url = fields.String()


class MeOutSchema(UserOutSchema):
    communes = fields.List(fields.Nested(MembershipOutSchema), required=True)
