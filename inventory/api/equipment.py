"""Equipment through the API: record items (one, or thousands all-or-nothing), change
their status, move them, change a selection at once (with a per-item report). Every
write is the pages' service (assets.lifecycle) under the pages' policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from inventory.api import auth, common, docs
from inventory.api.equipment_schemas import (
    AssetCreate,
    BulkCreate,
    BulkCreated,
    BulkReport,
    BulkUpdate,
    Move,
    StatusChange,
)
from inventory.api.schemas import AssetSchema
from inventory.api.v1 import blp, problems
from inventory.assets import catalogue, lifecycle, lists
from inventory.assets.lifecycle import AssetError, ItemsRefused, TypedItem, Where
from inventory.assets.models import Asset, AssetStatus, EquipmentModel
from inventory.core import policy
from inventory.core.errors import ConflictError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.web import allow, problem

PLACE_KEYS = ("classroom_id", "ecole_id", "collectivite_id")
VALUE_FIELDS = tuple(AssetCreate().fields.keys() & lifecycle.AssetFields().values().keys())


class RowsRefused(AssetError):
    """Several fields of several rows are wrong: answered as one 422 listing them all."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors[0]["message"], errors[0]["field"])
        self.errors = errors

    @classmethod
    def by_position(cls, refused: dict[int, AssetError]) -> RowsRefused:
        """The refusals of a bulk service (``ItemsRefused.refused``), named by position."""
        return cls(
            [
                {"field": f"items.{n}.{error.field or ''}", "message": str(error.message)}
                for n, error in sorted(refused.items())
            ]
        )


@dataclass
class Resolver:
    """Destinations and catalogue models of a request, each loaded once (a bulk request
    names the same few places and models thousands of times)."""

    places: dict[tuple[str, int], Where | AssetError] = field(default_factory=dict)
    models: dict[tuple[str, str, str], EquipmentModel] = field(default_factory=dict)

    def where(self, data: dict[str, Any]) -> Where:
        for key in PLACE_KEYS:
            if data.get(key):
                if (key, data[key]) not in self.places:
                    self.load(key, [data[key]])
                found = self.places.get((key, data[key]))
                if found is None:
                    raise policy.Denied()
                if isinstance(found, AssetError):
                    raise found
                return found
        return lifecycle.resolve_where(db.session, current_user)  # "choose where" (422)

    def load(self, key: str, ids: list[int]) -> None:
        """Resolve many places of one kind at once (those absent: out of reach)."""
        found = lifecycle.resolve_places(db.session, current_user, key, ids)
        self.places.update({(key, i): place for i, place in found.items()})

    def preload(self, rows: list[dict[str, Any]]) -> None:
        """The places a bulk request names, a query per kind rather than per place."""
        wanted: dict[str, set[int]] = {key: set() for key in PLACE_KEYS}
        for row in rows:
            key = next((k for k in PLACE_KEYS if row.get(k)), None)
            if key is not None:
                wanted[key].add(row[key])
        for key, ids in wanted.items():
            if ids:
                self.load(key, sorted(ids))

    def model(self, data: dict[str, Any]) -> EquipmentModel:
        key = (data["category"], data["manufacturer"], data["model"])
        found = self.models.get(key)
        if found is None:
            category = catalogue.category_by_code(db.session, data["category"])
            if category is None:
                raise AssetError(
                    _("Unknown category: %(code)s.", code=data["category"]), "category"
                )
            found = catalogue.get_or_create_model(
                db.session, data["manufacturer"], data["model"], category
            )
            self.models[key] = found
        return found

    def typed(self, data: dict[str, Any]) -> TypedItem:
        values: dict[str, Any] = {k: data.get(k) for k in VALUE_FIELDS}
        return TypedItem(
            where=self.where(data),
            model=self.model(data),
            status=AssetStatus(data["status"]),
            fields=lifecycle.AssetFields(**values),
            tag=(data.get("tag") or "").strip() or None,
        )


def rows_refused(error: RowsRefused) -> Response:
    """A bulk request refused: every row's refusal, by position; nothing was written."""
    db.session.rollback()
    return problem(422, str(auth.TITLES[422]), _("Some items are not valid."), error.errors)


blp.register_error_handler(RowsRefused, rows_refused)


def _detail(asset_id: int) -> Any:
    found = lists.asset_detail(db.session, current_user, asset_id)
    return found, 200, common.etag(found.version)


@blp.route("/assets", methods=["POST"], endpoint="create_asset")
@allow(Action.EDIT)
@blp.arguments(AssetCreate)
@blp.response(201, AssetSchema)
@problems(403, 422)
def create_asset(data: dict[str, Any]) -> Any:
    """Record one item, as the page "Add an item" does; 201 with its Location and ETag."""
    typed = Resolver().typed(data)
    (item,) = lifecycle.create_assets(db.session, current_user, [typed])
    assert item.id is not None
    found = lists.asset_detail(db.session, current_user, item.id)
    location = url_for("api.asset", asset_id=found.id)
    return common.created(found, location, found.version)


@blp.route("/assets/bulk", methods=["POST"], endpoint="create_assets")
@allow(Action.EDIT)
@blp.arguments(BulkCreate)
@blp.response(201, BulkCreated)
@problems(403, 413, 422)
def create_assets(data: dict[str, Any]) -> Any:
    """Record many items in one transaction, all or none: when any item is refused,
    nothing is written and the 422 lists every refusal by position
    (``items.<n>.<field>``). The ids and tags come back in the order sent."""
    resolver = Resolver()
    resolver.preload(data["items"])
    typed: list[TypedItem] = []
    errors: list[dict[str, str]] = []
    for n, row in enumerate(data["items"]):
        try:
            typed.append(resolver.typed(row))
        except AssetError as exc:
            errors.append({"field": f"items.{n}.{exc.field or ''}", "message": str(exc.message)})
        except NotFound:
            errors.append(
                {
                    "field": f"items.{n}.destination",
                    "message": _("No place of this id where you may add equipment."),
                }
            )
    if errors:
        raise RowsRefused(errors)
    try:
        items = lifecycle.create_assets(db.session, current_user, typed)
    except ItemsRefused as exc:
        raise RowsRefused.by_position(exc.refused) from None
    return {"items": [{"id": i.id, "tag": i.tag} for i in items]}, 201


@blp.route("/assets/<int:asset_id>/status", methods=["POST"], endpoint="change_status")
@allow(Action.EDIT, on=(Asset, "asset_id"))
@common.scoped(Asset, "asset_id")
@blp.arguments(StatusChange)
@blp.response(200, AssetSchema)
@problems(403, 409, 412, 422, 428)
def change_status(data: dict[str, Any], asset_id: int) -> Any:
    """Move an item along its lifecycle (delivered → installed → in service…), as its
    page does; the version read is required (body or If-Match)."""
    item = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    version = common.version_sent(
        data, item.version, _("Someone else saved this item since you read it.")
    )
    _check_version(item, version)
    lifecycle.change_status(
        db.session, current_user, item, AssetStatus(data["status"]), data.get("note") or None
    )
    return _detail(asset_id)


@blp.route("/assets/<int:asset_id>/move", methods=["POST"], endpoint="move_asset")
@allow(Action.EDIT, on=(Asset, "asset_id"))
@common.scoped(Asset, "asset_id")
@blp.arguments(Move)
@blp.response(200, AssetSchema)
@problems(403, 409, 412, 422, 428)
def move_asset(data: dict[str, Any], asset_id: int) -> Any:
    """Move an item to a classroom, a school (shared) or its collectivité's storage; the
    version read is required (body or If-Match)."""
    item = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    version = common.version_sent(
        data, item.version, _("Someone else saved this item since you read it.")
    )
    _check_version(item, version)
    lifecycle.move_asset(db.session, current_user, item, Resolver().where(data))
    return _detail(asset_id)


def _check_version(item: Asset, version: int) -> None:
    if version != item.version:
        raise ConflictError(
            _("Someone else saved this item since you read it: read it again, then resend.")
        )


@blp.route("/assets/bulk-update", methods=["POST"], endpoint="update_assets")
@allow(Action.EDIT)
@blp.arguments(BulkUpdate)
@blp.response(200, BulkReport)
@problems(403, 409, 422)
def update_assets(data: dict[str, Any]) -> Any:
    """Change the status of a selection, or move it, as the equipment list's bulk action
    does: item by item, with a report (done, refused with the reason, and the ids you
    may not change); one transaction."""
    status = data.get("status")
    destination = data.get("destination")
    if not status and not destination:
        raise AssetError(_("Send a status or a destination."), field="status")
    ids = list(dict.fromkeys(data["ids"]))
    where = Resolver().where(destination) if destination else None
    result = lifecycle.bulk_update(
        db.session,
        current_user,
        ids,
        status=AssetStatus(status) if status else None,
        where=where,
    )
    id_of = _ids_of_tags([*result.done, *(tag for tag, _m in result.refused)])
    return {
        "done": [{"id": id_of[tag], "tag": tag} for tag in result.done],
        "refused": [
            {"id": id_of[tag], "tag": tag, "message": message} for tag, message in result.refused
        ],
        "not_found": sorted(set(ids) - set(id_of.values())),
    }


def _ids_of_tags(tags: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for n in range(0, len(tags), 500):
        stmt = select(Asset.tag, Asset.id).where(Asset.tag.in_(tags[n : n + 500]))
        out.update(dict(db.session.execute(stmt).all()))
    return out


docs.summaries(
    {
        "post/assets": _l(
            'Record one item, as the page "Add an item" does; 201 with its Location and ETag.'
        ),
        "post/assets/bulk": _l(
            "Record many items in one transaction, all or none: when any item is "
            "refused, nothing is written and the 422 lists every refusal by "
            "position (``items.<n>.<field>``). The ids and tags come back in the "
            "order sent."
        ),
        "post/assets/{asset_id}/status": _l(
            "Move an item along its lifecycle (delivered → installed → in "
            "service…), as its page does; the version read is required (body or "
            "If-Match)."
        ),
        "post/assets/{asset_id}/move": _l(
            "Move an item to a classroom, a school (shared) or its collectivité's "
            "storage; the version read is required (body or If-Match)."
        ),
        "post/assets/bulk-update": _l(
            "Change the status of a selection, or move it, as the equipment "
            "list's bulk action does: item by item, with a report (done, refused "
            "with the reason, and the ids you may not change); one transaction."
        ),
    }
)
