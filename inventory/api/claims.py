"""/api/v1 warranty claims: those you may see (by where they stand), one claim, and the
supplier's answer recorded as the claim's page records it (claims.answer_claim)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields, validate

from inventory.api import common
from inventory.api.docs import SUMMARIES
from inventory.api.records import blp, problems
from inventory.api.schemas import N_, CursorQuery, Int, KeyedPage, Text
from inventory.assets.socle import paris_today
from inventory.core.errors import ConflictError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.suppliers import claims, listing
from inventory.suppliers.models import ClaimStatus, MaintenanceRecord
from inventory.web import allow

STATUSES = [s.value for s in ClaimStatus]


class ClaimSchema(Schema):
    id = Int()
    version = Int()
    asset_id = Int()
    supplier_id = Int(allow_none=True)
    sent_on = fields.Date(attribute="done_on")
    problem = Text(allow_none=True)
    status = Text(attribute="claim_status")
    reference = Text(attribute="claim_reference", allow_none=True)
    answered_on = fields.Date(allow_none=True)
    answer = Text(allow_none=True)


class ClaimQuery(CursorQuery):
    status = Text(
        validate=validate.OneOf(STATUSES),
        metadata={"description": N_("Where the claims stand: sent (awaiting), or answered")},
    )


class ClaimPage(KeyedPage):
    items = fields.List(fields.Nested(ClaimSchema))


class ClaimAnswerInput(common.Versioned):
    status = Text(validate=validate.OneOf(STATUSES))
    answered_on = fields.Date(allow_none=True)
    reference = Text(allow_none=True, validate=validate.Length(max=60))
    answer = Text(allow_none=True, validate=validate.Length(max=5000))


SUMMARIES.update(
    {
        "get/claims": _l("The warranty claims you may see, by where they stand; cursor pages."),
        "get/claims/{record_id}": _l("One warranty claim; its ETag is its version."),
        "patch/claims/{record_id}": _l(
            "Record the supplier's answer to a claim; the fields not sent are kept."
        ),
    }
)


@blp.route("/claims", methods=["GET"])
@blp.arguments(ClaimQuery, location="query")
@blp.response(200, ClaimPage)
@problems(422)
@allow(Action.READ)
def claim_list(args: dict[str, Any]) -> Any:
    """The warranty claims you may see, by where they stand; cursor pages."""
    status = ClaimStatus(args["status"]) if args.get("status") else None
    page = listing.claims_by_key(
        db.session, current_user, args["limit"], after=common.cursor_of(args), status=status
    )
    return common.page_body(page)


def _claim(record_id: int) -> Any:
    found = claims.claim_of(db.session, current_user, record_id)
    return found, 200, common.etag(found.version)


@blp.route("/claims/<int:record_id>", methods=["GET"])
@blp.response(200, ClaimSchema)
@problems()
@allow(Action.READ, on=(MaintenanceRecord, "record_id"))
def claim(record_id: int) -> Any:
    """One warranty claim; its ETag is its version."""
    return _claim(record_id)


@blp.route("/claims/<int:record_id>", methods=["PATCH"], endpoint="answer_claim")
@allow(Action.EDIT, on=(MaintenanceRecord, "record_id"))
@common.scoped(MaintenanceRecord, "record_id")
@blp.arguments(ClaimAnswerInput)
@blp.response(200, ClaimSchema)
@problems(403, 409, 412, 422, 428)
def answer_claim(data: dict[str, Any], record_id: int) -> Any:
    """Record the supplier's answer to a claim; the fields not sent are kept. Send the
    version read, in the body (409 when stale) or as If-Match (412)."""
    found = claims.claim_of(db.session, current_user, record_id)
    version = common.version_sent(data, found.version)
    status = data.get("status") or found.claim_status or ClaimStatus.SENT
    answer = claims.ClaimAnswer(
        status=ClaimStatus(status),
        answered_on=data.get("answered_on", found.answered_on),
        reference=data.get("reference", found.claim_reference),
        answer=data.get("answer", found.answer),
    )
    try:
        claims.answer_claim(
            db.session, current_user, found, answer, today=paris_today(), version=version
        )
    except ConflictError:
        raise common.reworded_conflict() from None
    return _claim(record_id)
