"""What the equipment, network works and labels endpoints read and write."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from inventory.api.schemas import N_, AssetValues, CursorQuery, Int, KeyedPage, Text
from inventory.assets.models import AssetStatus, WorkKind, WorkStatus

STATUSES = [s.value for s in AssetStatus]
# At most this many items in one bulk request (what one transaction writes comfortably).
BULK_MAX = 5000


class Destination(Schema):
    """Where an item goes: a classroom, a school (shared) or its collectivité's storage;
    the first one given counts."""

    classroom_id = Int(metadata={"description": N_("A classroom")})
    ecole_id = Int(metadata={"description": N_("A school (shared)")})
    collectivite_id = Int(metadata={"description": N_("A collectivité's storage")})


class AssetCreate(Destination, AssetValues):
    """A new item: its catalogue model (created when new, as on the page), where it goes,
    its first status; without a tag it is numbered in its collectivité's pattern."""

    category = Text(
        required=True, metadata={"description": N_("The category's code (eni, vpi, tablette…)")}
    )
    manufacturer = Text(required=True)
    model = Text(required=True)
    status = Text(load_default=AssetStatus.DELIVERED.value, validate=validate.OneOf(STATUSES))
    tag = Text(allow_none=True)


class BulkCreate(Schema):
    # One load of the item schema for the whole list (many=True), not a load per item.
    items = fields.Nested(
        AssetCreate,
        many=True,
        required=True,
        validate=validate.Length(min=1, max=BULK_MAX),
        metadata={"description": N_("The items, all recorded or none")},
    )


class CreatedItem(Schema):
    id = Int()
    tag = Text()


class BulkCreated(Schema):
    items = fields.List(fields.Nested(CreatedItem), metadata={"description": N_("In order")})


class StatusChange(Schema):
    status = Text(required=True, validate=validate.OneOf(STATUSES))
    note = Text(allow_none=True)
    version = Int(metadata={"description": N_("The version read; or send If-Match")})


class Move(Destination):
    version = Int(metadata={"description": N_("The version read; or send If-Match")})


class BulkUpdate(Schema):
    """A selection's new status, or its move (the equipment list's bulk action)."""

    ids = fields.List(Int(), required=True, validate=validate.Length(min=1, max=BULK_MAX))
    status = Text(validate=validate.OneOf(STATUSES))
    destination = fields.Nested(Destination)


class Refused(Schema):
    id = Int()
    tag = Text()
    message = Text()


class BulkReport(Schema):
    done = fields.List(fields.Nested(CreatedItem), metadata={"description": N_("Changed")})
    refused = fields.List(fields.Nested(Refused), metadata={"description": N_("Not changed")})
    not_found = fields.List(
        Int(), metadata={"description": N_("Ids you may not change (or unknown)")}
    )


# -- network works -------------------------------------------------------------------------
class WorkSchema(Schema):
    id = Int()
    version = Int()
    ecole_id = Int()
    collectivite_id = Int()
    kind = Text()
    title = Text()
    status = Text()
    contractor = Text(allow_none=True)
    quote_cents = Int(allow_none=True)
    invoice_cents = Int(allow_none=True)
    planned_start = fields.Date(allow_none=True)
    planned_end = fields.Date(allow_none=True)
    actual_start = fields.Date(allow_none=True)
    actual_end = fields.Date(allow_none=True)
    accepted_on = fields.Date(allow_none=True)
    notes = Text(allow_none=True)
    classroom_ids = fields.Method("_rooms")

    def _rooms(self, work: object) -> list[int]:
        return [room.id for room in getattr(work, "classrooms", [])]


class WorkPage(KeyedPage):
    items = fields.List(fields.Nested(WorkSchema))


class WorkQuery(CursorQuery):
    ecole = Int()
    collectivite = Int()
    kind = Text(validate=validate.OneOf([k.value for k in WorkKind]))
    status = Text(validate=validate.OneOf([s.value for s in WorkStatus]))
    sparse = Text(data_key="fields", metadata={"description": N_("Sparse field set: a,b,c")})


class WorkValues(Schema):
    kind = Text(validate=validate.OneOf([k.value for k in WorkKind]))
    title = Text()
    status = Text(validate=validate.OneOf([s.value for s in WorkStatus]))
    contractor = Text(allow_none=True)
    quote_cents = Int(allow_none=True)
    invoice_cents = Int(allow_none=True)
    planned_start = fields.Date(allow_none=True)
    planned_end = fields.Date(allow_none=True)
    actual_start = fields.Date(allow_none=True)
    actual_end = fields.Date(allow_none=True)
    accepted_on = fields.Date(allow_none=True)
    notes = Text(allow_none=True)
    classroom_ids = fields.List(Int(), metadata={"description": N_("Rooms covered")})


class WorkCreate(WorkValues):
    ecole_id = Int(required=True)
    kind = Text(required=True, validate=validate.OneOf([k.value for k in WorkKind]))
    title = Text(required=True)


class WorkBulkCreate(Schema):
    items = fields.List(
        fields.Nested(WorkCreate),
        required=True,
        validate=validate.Length(min=1, max=BULK_MAX),
        metadata={"description": N_("The works, all planned or none")},
    )


class CreatedWork(Schema):
    id = Int()
    version = Int()
    title = Text()


class WorksCreated(Schema):
    items = fields.List(fields.Nested(CreatedWork), metadata={"description": N_("In order")})


class WorkPatch(WorkValues):
    """The fields to change (others are kept); ``version`` (or If-Match) is required."""

    version = Int(metadata={"description": N_("The version read; or send If-Match")})


# -- labels and jobs -----------------------------------------------------------------------
class LabelToken(Schema):
    asset_id = Int()
    token = Text(metadata={"description": N_("The code the label's QR carries")})
    url = Text(metadata={"description": N_("The address the label opens")})
    issued_at = fields.DateTime(attribute="created_at")


class PrintRequest(Schema):
    asset_ids = fields.List(Int(), validate=validate.Length(max=BULK_MAX))
    school_rooms = Int(metadata={"description": N_("A school whose classrooms get room labels")})
    format = Text(required=True, metadata={"description": N_("A label format's code")})
    start = Int(load_default=1, metadata={"description": N_("First position on the sheet")})


class JobSchema(Schema):
    id = Int()
    kind = Text()
    state = Text(metadata={"description": N_("queued, running, done or failed")})
    done = Int()
    total = Int()
    error = Text(allow_none=True)
    result = fields.Dict(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    page = Text(metadata={"description": N_("The job's page, for a person")})
    file = Text(allow_none=True, metadata={"description": N_("Its file, once made")})
