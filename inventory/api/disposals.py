"""The register of retired items through the API: the disposal batches, newest first
(key-paged), each with its route, date, eco-organism and the tags of its items, as the
register's pages show them (assets.disposal)."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from marshmallow import Schema, fields

from inventory.api import common
from inventory.api.schemas import N_, CursorQuery, Int, KeyedPage, Text
from inventory.api.v1 import blp, problems
from inventory.assets import disposal
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.web import allow


class DisposalSchema(Schema):
    id = Int()
    collectivite_id = Int()
    route = Text(metadata={"description": N_("reuse, donation or deee")})
    disposed_on = fields.Date()
    organism = Text(allow_none=True)
    organism_reference = Text(allow_none=True)
    certificate = fields.Function(
        lambda d: d.certificate_name is not None,
        metadata={"description": N_("Whether a certificate was uploaded")},
    )
    tags = fields.Function(lambda d: [a.tag for a in d.assets])


class DisposalPage(KeyedPage):
    items = fields.List(fields.Nested(DisposalSchema))


@blp.route("/disposals", methods=["GET"])
@blp.arguments(CursorQuery, location="query")
@blp.response(200, DisposalPage)
@problems(422)
@allow(Action.READ)
def list_disposals(args: dict[str, Any]) -> Any:
    """The batches of retired items you may see, newest first; cursor pages: pass each
    page's next_cursor as cursor until it is null."""
    page = disposal.disposals_by_key(
        db.session, current_user, args["limit"], after=common.cursor_of(args)
    )
    return common.page_body(page)
