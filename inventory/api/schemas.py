"""What the API reads and writes, as marshmallow schemas (they make the OpenAPI
description too)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from inventory.assets.models import AssetStatus


def N_(text: str) -> str:
    """Marks a description for the catalogue: the OpenAPI document keeps it in English, the
    documentation page shows it translated (api/docs.py)."""
    return text


class Query(Schema):
    class Meta:
        unknown = EXCLUDE  # as the pages: a query argument the API does not know is ignored


class SchoolQuery(Query):
    q = fields.String(metadata={"description": N_("Text search (name, UAI, commune)")})
    academie = fields.Integer()
    departement = fields.Integer()
    circonscription = fields.Integer()
    collectivite = fields.Integer()
    nature = fields.String()
    cursor = fields.String(
        metadata={"description": N_("The next_cursor of the previous page; none: the first page")}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    sparse = fields.String(
        data_key="fields", metadata={"description": N_("Sparse field set: a,b,c")}
    )


class SchoolSchema(Schema):
    id = fields.Integer()
    uai = fields.String()
    name = fields.String()
    nature = fields.String()
    status = fields.String()
    is_private = fields.Boolean()
    address = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    commune = fields.String(attribute="commune.name")
    departement_id = fields.Integer()
    circonscription_id = fields.Integer(allow_none=True)
    collectivite_id = fields.Integer(allow_none=True)
    pupils = fields.Integer(allow_none=True)


class SchoolPage(Schema):
    items = fields.List(fields.Nested(SchoolSchema))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": N_("Pass it as cursor for the next page")}
    )
    total = fields.Integer(metadata={"description": N_("Schools matching (at most the cap)")})
    capped = fields.Boolean(metadata={"description": N_("More schools than total match")})


class ClassroomSchema(Schema):
    id = fields.Integer()
    ecole_id = fields.Integer()
    name = fields.String()
    levels = fields.String()
    pupils = fields.Integer(allow_none=True)
    estimated = fields.Boolean()


class AssetQuery(Query):
    q = fields.String(metadata={"description": N_("Text search (tag, serial, model…)")})
    collectivite = fields.Integer()
    ecole = fields.Integer()
    classroom = fields.Integer()
    category = fields.Integer()
    status = fields.String(validate=validate.OneOf([s.value for s in AssetStatus]))
    warranty_days = fields.Integer(
        metadata={"description": N_("Warranty ending within this many days")}
    )
    missing_serial = fields.Boolean()
    missing_socle = fields.Boolean()
    cursor = fields.String(
        metadata={"description": N_("The next_cursor of the previous page; none: the first page")}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    sparse = fields.String(
        data_key="fields", metadata={"description": N_("Sparse field set: a,b,c")}
    )


class AssetSchema(Schema):
    id = fields.Integer()
    version = fields.Integer()
    tag = fields.String()
    status = fields.String()
    placement = fields.String()
    category_id = fields.Integer()
    model_id = fields.Integer()
    model = fields.String(attribute="model.name")
    manufacturer = fields.String(attribute="model.manufacturer.name")
    collectivite_id = fields.Integer()
    ecole_id = fields.Integer(allow_none=True)
    classroom_id = fields.Integer(allow_none=True)
    serial = fields.String(allow_none=True)
    supplier = fields.String(allow_none=True)
    order_number = fields.String(allow_none=True)
    invoice_number = fields.String(allow_none=True)
    purchase_date = fields.Date(allow_none=True)
    price_ht_cents = fields.Integer(allow_none=True)
    price_ttc_cents = fields.Integer(allow_none=True)
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
    total = fields.Integer(metadata={"description": N_("Items matching (at most the cap)")})
    capped = fields.Boolean(metadata={"description": N_("More items than total match")})


class AssetPatch(Schema):
    """The fields to change (others are kept); ``version`` (or If-Match) is required."""

    version = fields.Integer(metadata={"description": N_("The version read; or send If-Match")})
    tag = fields.String()
    serial = fields.String(allow_none=True)
    supplier = fields.String(allow_none=True)
    order_number = fields.String(allow_none=True)
    invoice_number = fields.String(allow_none=True)
    purchase_date = fields.Date(allow_none=True)
    price_ht_cents = fields.Integer(allow_none=True)
    price_ttc_cents = fields.Integer(allow_none=True)
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
    status = fields.Integer()
    detail = fields.String()
    errors = fields.List(fields.Nested(FieldError))
