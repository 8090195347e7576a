"""/api/v1 change log of one object (an item, a school and everything in it, a ticket, a
dossier with its expenses and payments, an expense, a training session): its changes as
the history on its page reads them (core.describe), newest first, in cursor pages as the
other lists (pass each page's next_cursor as cursor until it is null)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields

from inventory.api import common
from inventory.api.docs import SUMMARIES
from inventory.api.records import blp, problems
from inventory.api.schemas import N_, CursorQuery, Int, KeyedPage, Text
from inventory.assets.models import Asset
from inventory.changelog.services import history_page
from inventory.core import pagination, policy
from inventory.core.describe import Entry
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants.dossiers import dossier_detail, dossier_history_page
from inventory.grants.models import Dossier, Expense
from inventory.helpdesk.models import Ticket
from inventory.orgs.models import Ecole
from inventory.training.models import TrainingSession
from inventory.web import allow


class ChangeSchema(Schema):
    field = Text(metadata={"description": N_("The column changed")})
    label = Text(metadata={"description": N_("Its name, in the request's language")})
    before = Text(metadata={"description": N_("The value before, as it reads")})
    after = Text(metadata={"description": N_("The value after, as it reads")})


class HistoryEntry(Schema):
    id = Int()
    at = fields.DateTime()
    action = Text(metadata={"description": N_("create, update or delete")})
    object_type = Text()
    type_label = Text(metadata={"description": N_("The type's name, as it reads")})
    object_id = Int()
    object_label = Text()
    actor = Text(metadata={"description": N_("Who acted, by name")})
    actor_label = Text(
        metadata={"description": N_("Who acted, as recorded (marked (API) for a token)")}
    )
    changes = fields.List(fields.Nested(ChangeSchema))
    summary = fields.Method("_summary")

    def _summary(self, entry: Entry) -> str:
        return entry.summary()


class HistoryPage(KeyedPage):
    items = fields.List(fields.Nested(HistoryEntry))


SUMMARIES.update(
    {
        f"get/{path}/history": _l(
            "The changes of this record, newest first, readable; cursor pages."
        )
        for path in (
            "assets/{asset_id}",
            "schools/{ecole_id}",
            "tickets/{ticket_id}",
            "dossiers/{dossier_id}",
            "expenses/{expense_id}",
            "training-sessions/{session_id}",
        )
    }
)


Read = Callable[[Any, int, int | None], pagination.KeyedPage[Entry]]


def _route(path: str, model: type, arg: str, read: Read) -> None:
    @blp.arguments(CursorQuery, location="query")
    @blp.response(200, HistoryPage)
    @problems(422)
    @allow(Action.READ, on=(model, arg))
    def view(args: dict[str, Any], **kwargs: int) -> Any:
        """The changes of this record, newest first, readable; cursor pages."""
        obj: Any = policy.load_or_404(current_user, model, kwargs[arg], db.session)
        return common.page_body(read(obj, args["limit"], common.cursor_of(args)))

    name = f"{model.__tablename__}_history"  # type: ignore[attr-defined]
    view.__name__ = name
    blp.route(f"/{path}/<int:{arg}>/history", methods=["GET"], endpoint=name)(view)


def _of(obj: Any, limit: int, after: int | None) -> pagination.KeyedPage[Entry]:
    return history_page(db.session, current_user, obj, per_page=limit, after=after)


def _school(obj: Any, limit: int, after: int | None) -> pagination.KeyedPage[Entry]:
    return history_page(
        db.session, current_user, obj, per_page=limit, after=after, whole_school=True
    )


def _dossier(obj: Any, limit: int, after: int | None) -> pagination.KeyedPage[Entry]:
    dossier = dossier_detail(db.session, current_user, obj.id)
    return dossier_history_page(db.session, current_user, dossier, per_page=limit, after=after)


_route("assets", Asset, "asset_id", _of)
_route("schools", Ecole, "ecole_id", _school)
_route("tickets", Ticket, "ticket_id", _of)
_route("dossiers", Dossier, "dossier_id", _dossier)
_route("expenses", Expense, "expense_id", _of)
_route("training-sessions", TrainingSession, "session_id", _of)
