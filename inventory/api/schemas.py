"""What the API reads and writes, as marshmallow schemas (they make the OpenAPI
description too)."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from inventory.assets.models import AssetStatus


def N_(text: str) -> str:
    """Marks a description for the catalogue: the OpenAPI document keeps it in English, the
    documentation page shows it translated (api/docs.py)."""
    return text


# Every integer column is 32 bits on PostgreSQL (and 64 on SQLite): a larger number sent
# is a field error, never a crash of the database driver.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


class Int(fields.Integer):
    """An integer the database can hold; its bounds are in the OpenAPI description."""

    def __init__(self, *args: Any, validate: Any = None, **kwargs: Any) -> None:
        checks = (
            []
            if validate is None
            else list(validate)
            if isinstance(validate, list | tuple)
            else [validate]
        )
        super().__init__(*args, validate=[validate_range(), *checks], **kwargs)


def validate_range() -> validate.Range:
    return validate.Range(min=INT_MIN, max=INT_MAX)


class Query(Schema):
    class Meta:
        unknown = EXCLUDE  # as the pages: a query argument the API does not know is ignored


class SchoolQuery(Query):
    q = fields.String(metadata={"description": N_("Text search (name, UAI, commune)")})
    academie = Int()
    departement = Int()
    circonscription = Int()
    collectivite = Int()
    nature = fields.String()
    cursor = fields.String(
        metadata={"description": N_("The next_cursor of the previous page; none: the first page")}
    )
    limit = Int(load_default=50, validate=validate.Range(min=1, max=200))
    sparse = fields.String(
        data_key="fields", metadata={"description": N_("Sparse field set: a,b,c")}
    )


class SchoolSchema(Schema):
    id = Int()
    uai = fields.String()
    name = fields.String()
    nature = fields.String()
    status = fields.String()
    is_private = fields.Boolean()
    address = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    commune = fields.String(attribute="commune.name")
    departement_id = Int()
    circonscription_id = Int(allow_none=True)
    collectivite_id = Int(allow_none=True)
    pupils = Int(allow_none=True)


class SchoolPage(Schema):
    items = fields.List(fields.Nested(SchoolSchema))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": N_("Pass it as cursor for the next page")}
    )
    total = Int(metadata={"description": N_("Schools matching (at most the cap)")})
    capped = fields.Boolean(metadata={"description": N_("More schools than total match")})


class ClassroomSchema(Schema):
    id = Int()
    ecole_id = Int()
    name = fields.String()
    levels = fields.String()
    pupils = Int(allow_none=True)
    estimated = fields.Boolean()


class AssetQuery(Query):
    q = fields.String(metadata={"description": N_("Text search (tag, serial, model…)")})
    collectivite = Int()
    ecole = Int()
    classroom = Int()
    category = Int()
    status = fields.String(validate=validate.OneOf([s.value for s in AssetStatus]))
    warranty_days = Int(metadata={"description": N_("Warranty ending within this many days")})
    missing_serial = fields.Boolean()
    missing_socle = fields.Boolean()
    cursor = fields.String(
        metadata={"description": N_("The next_cursor of the previous page; none: the first page")}
    )
    limit = Int(load_default=50, validate=validate.Range(min=1, max=200))
    sparse = fields.String(
        data_key="fields", metadata={"description": N_("Sparse field set: a,b,c")}
    )


class AssetSchema(Schema):
    id = Int()
    version = Int()
    tag = fields.String()
    status = fields.String()
    placement = fields.String()
    category_id = Int()
    model_id = Int()
    model = fields.String(attribute="model.name")
    manufacturer = fields.String(attribute="model.manufacturer.name")
    collectivite_id = Int()
    ecole_id = Int(allow_none=True)
    classroom_id = Int(allow_none=True)
    serial = fields.String(allow_none=True)
    supplier = fields.String(allow_none=True)
    order_number = fields.String(allow_none=True)
    invoice_number = fields.String(allow_none=True)
    purchase_date = fields.Date(allow_none=True)
    price_ht_cents = Int(allow_none=True)
    price_ttc_cents = Int(allow_none=True)
    warranty_end = fields.Date(allow_none=True)
    mac = fields.String(allow_none=True)
    mac_wifi = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)


class AssetPage(Schema):
    items = fields.List(fields.Nested(AssetSchema))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": N_("Pass it as cursor for the next page")}
    )
    total = Int(metadata={"description": N_("Items matching (at most the cap)")})
    capped = fields.Boolean(metadata={"description": N_("More items than total match")})


class AssetPatch(Schema):
    """The fields to change (others are kept); ``version`` (or If-Match) is required."""

    version = Int(metadata={"description": N_("The version read; or send If-Match")})
    tag = fields.String()
    serial = fields.String(allow_none=True)
    supplier = fields.String(allow_none=True)
    order_number = fields.String(allow_none=True)
    invoice_number = fields.String(allow_none=True)
    purchase_date = fields.Date(allow_none=True)
    price_ht_cents = Int(allow_none=True)
    price_ttc_cents = Int(allow_none=True)
    warranty_end = fields.Date(allow_none=True)
    mac = fields.String(allow_none=True)
    mac_wifi = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)


class FieldError(Schema):
    field = fields.String()
    message = fields.String()


class Problem(Schema):
    """RFC 9457 problem details."""

    type = fields.String()
    title = fields.String()
    status = Int()
    detail = fields.String()
    errors = fields.List(fields.Nested(FieldError))
