"""What the API reads and writes, as marshmallow schemas (they make the OpenAPI
description too)."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

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
    return validate.Range(min=INT_MIN, max=INT_MAX, error=OUT_OF_RANGE)


OUT_OF_RANGE = "Out of range."  # translated with marshmallow's own (api.auth)
CONTROL_CHARACTER = "Holds a control character."
# A NUL cannot be stored by PostgreSQL, and no other control character belongs in a text
# sent here; tabs and line breaks do.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def no_control_character(value: str) -> None:
    if _CONTROLS.search(value):
        raise ValidationError(CONTROL_CHARACTER)


class Text(fields.String):
    """A string as the database can hold it: a control character is a field error."""

    def __init__(self, *args: Any, validate: Any = None, **kwargs: Any) -> None:
        checks = (
            []
            if validate is None
            else list(validate)
            if isinstance(validate, list | tuple)
            else [validate]
        )
        super().__init__(*args, validate=[no_control_character, *checks], **kwargs)


class Query(Schema):
    class Meta:
        unknown = EXCLUDE  # as the pages: a query argument the API does not know is ignored


class CursorQuery(Query):
    """A key-paged list's query: where to start, and how many."""

    cursor = Text(
        metadata={"description": N_("The next_cursor of the previous page; none: the first page")}
    )
    limit = Int(
        load_default=50,
        validate=validate.Range(min=1, max=200),
        metadata={"description": N_("Items per page")},
    )


class KeyedPage(Schema):
    """A key-paged list's answer; each list adds its ``items``."""

    next_cursor = Text(
        allow_none=True, metadata={"description": N_("Pass it as cursor for the next page")}
    )
    total = Int(metadata={"description": N_("Items matching (at most the cap)")})
    capped = fields.Boolean(metadata={"description": N_("More items than total match")})


class SchoolQuery(CursorQuery):
    q = Text(metadata={"description": N_("Text search (name, UAI, commune)")})
    academie = Int()
    departement = Int()
    circonscription = Int()
    collectivite = Int()
    nature = Text()
    sparse = Text(data_key="fields", metadata={"description": N_("Sparse field set: a,b,c")})


class SchoolSchema(Schema):
    id = Int()
    uai = Text()
    name = Text()
    nature = Text()
    status = Text()
    is_private = fields.Boolean()
    address = Text(allow_none=True)
    postal_code = Text(allow_none=True)
    commune = Text(attribute="commune.name")
    departement_id = Int()
    circonscription_id = Int(allow_none=True)
    collectivite_id = Int(allow_none=True)
    pupils = Int(allow_none=True)


class SchoolPage(KeyedPage):
    items = fields.List(fields.Nested(SchoolSchema))


class ClassroomSchema(Schema):
    id = Int()
    ecole_id = Int()
    name = Text()
    levels = Text()
    pupils = Int(allow_none=True)
    estimated = fields.Boolean()


class AssetQuery(CursorQuery):
    q = Text(metadata={"description": N_("Text search (tag, serial, model…)")})
    collectivite = Int()
    ecole = Int()
    classroom = Int()
    category = Int()
    status = Text(validate=validate.OneOf([s.value for s in AssetStatus]))
    warranty_days = Int(metadata={"description": N_("Warranty ending within this many days")})
    missing_serial = fields.Boolean()
    missing_socle = fields.Boolean()
    sparse = Text(data_key="fields", metadata={"description": N_("Sparse field set: a,b,c")})


class AssetValues(Schema):
    serial = Text(allow_none=True)
    supplier = Text(allow_none=True)
    order_number = Text(allow_none=True)
    invoice_number = Text(allow_none=True)
    purchase_date = fields.Date(allow_none=True)
    price_ht_cents = Int(allow_none=True)
    price_ttc_cents = Int(allow_none=True)
    warranty_end = fields.Date(allow_none=True)
    end_of_life = fields.Date(allow_none=True)
    mac = Text(allow_none=True)
    mac_wifi = Text(allow_none=True)
    ip = Text(allow_none=True)
    notes = Text(allow_none=True)


class AssetSchema(AssetValues):
    id = Int()
    version = Int()
    tag = Text()
    status = Text()
    placement = Text()
    category_id = Int()
    model_id = Int()
    model = Text(attribute="model.name")
    manufacturer = Text(attribute="model.manufacturer.name")
    collectivite_id = Int()
    ecole_id = Int(allow_none=True)
    classroom_id = Int(allow_none=True)


class AssetPage(KeyedPage):
    items = fields.List(fields.Nested(AssetSchema))


class AssetPatch(AssetValues):
    """The fields to change (others are kept); ``version`` (or If-Match) is required."""

    version = Int(metadata={"description": N_("The version read; or send If-Match")})
    tag = Text()


class FieldError(Schema):
    field = Text()
    message = Text()


class Problem(Schema):
    """RFC 9457 problem details."""

    type = Text()
    title = Text()
    status = Int()
    detail = Text()
    errors = fields.List(fields.Nested(FieldError))
