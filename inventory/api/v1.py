"""The endpoints of /api/v1: the same services as the pages, narrowed by the same policy
(out of scope: 404), each with its declared access rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from werkzeug.exceptions import PreconditionFailed, PreconditionRequired

from inventory.api import auth, common
from inventory.api.schemas import (
    AssetPage,
    AssetPatch,
    AssetQuery,
    AssetSchema,
    ClassroomSchema,
    SchoolPage,
    SchoolQuery,
    SchoolSchema,
)
from inventory.assets import lifecycle, lists
from inventory.assets.models import Asset
from inventory.core import policy
from inventory.core.errors import ConflictError, DomainError
from inventory.core.policy import Action
from inventory.extensions import csrf, db, limiter
from inventory.orgs import services as orgs
from inventory.orgs.models import Ecole, SchoolNature
from inventory.web import allow

V = TypeVar("V", bound=Callable[..., Any])

blp = Blueprint("api", __name__, url_prefix="/api/v1", description="Socle's registry and equipment")
auth.install(blp)
csrf.exempt(blp)  # no cookie authenticates here: a forged cross-site request has no token
# One budget per token across the API (a plain blueprint limit counts each endpoint apart).
limiter.shared_limit(auth.rate_limit, scope="api", key_func=auth.rate_limit_key)(blp)


def problems(*codes: int) -> Callable[[V], V]:
    """The problem details an operation of this blueprint may answer (common)."""
    return common.problem_answers(blp, *codes)


def _etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


@blp.route("/schools", methods=["GET"])
@blp.arguments(SchoolQuery, location="query")
@blp.response(200, SchoolPage)
@problems(422)
@allow(Action.READ)
def schools(args: dict[str, Any]) -> Any:
    """The schools you may see, newest record first, with the school list's filters;
    cursor pages: pass each page's next_cursor as cursor until it is null."""
    nature = args.get("nature", "")
    filters = orgs.SchoolFilters(
        q=(args.get("q") or "")[:100],
        academie=args.get("academie"),
        departement=args.get("departement"),
        circonscription=args.get("circonscription"),
        collectivite=args.get("collectivite"),
        nature=SchoolNature(nature) if nature in SchoolNature._value2member_map_ else None,
    )
    names = common.sparse_fields(args.get("sparse"), SchoolSchema)
    page = orgs.schools_by_key(
        db.session, current_user, filters, args["limit"], after=common.cursor_of(args)
    )
    return common.sparse(common.page_body(page), SchoolPage, names, nested="items")


@blp.route("/schools/<int:ecole_id>", methods=["GET"])
@blp.response(200, SchoolSchema)
@problems()
@allow(Action.READ, on=(Ecole, "ecole_id"))
def school(ecole_id: int) -> Any:
    """One school."""
    return orgs.school_detail(db.session, current_user, ecole_id)


@blp.route("/schools/<int:ecole_id>/classrooms", methods=["GET"])
@blp.response(200, ClassroomSchema(many=True))
@problems()
@allow(Action.READ, on=(Ecole, "ecole_id"))
def classrooms(ecole_id: int) -> Any:
    """The classrooms of a school, in their order."""
    return orgs.school_detail(db.session, current_user, ecole_id).classrooms


@blp.route("/assets", methods=["GET"])
@blp.arguments(AssetQuery, location="query")
@blp.response(200, AssetPage)
@problems(422)
@allow(Action.READ)
def assets(args: dict[str, Any]) -> Any:
    """The equipment you may see, newest first, with the equipment list's filters; cursor
    pages: pass each page's next_cursor as cursor until it is null."""
    filters = lists.AssetFilters.of_list(request.args)
    if filters.search_too_short:
        raise DomainError(
            _(
                "Type at least 3 characters to search every item, or first choose a "
                "collectivité or a school."
            ),
            field="q",
        )
    names = common.sparse_fields(args.get("sparse"), AssetSchema)
    page = lists.list_assets(
        db.session, current_user, filters, 1, args["limit"], after=common.cursor_of(args)
    )
    return common.sparse(common.page_body(page), AssetPage, names, nested="items")


@blp.route("/assets/<int:asset_id>", methods=["GET"])
@blp.response(200, AssetSchema)
@problems()
@allow(Action.READ, on=(Asset, "asset_id"))
def asset(asset_id: int) -> Any:
    """One item; its ETag is its version."""
    found = lists.asset_detail(db.session, current_user, asset_id)
    return found, 200, _etag(found.version)


def _if_match() -> int | None:
    value = request.headers.get("If-Match", "").strip()
    if not value:
        return None
    value = value.removeprefix("W/").strip('"')
    if not value.isdigit() or len(value) > 9:
        raise auth.refusal(PreconditionFailed, _("If-Match must be the item's ETag."))
    return int(value)


@blp.route("/assets/<int:asset_id>", methods=["PATCH"], endpoint="update_asset")
@blp.arguments(AssetPatch)
@blp.response(200, AssetSchema)
@problems(403, 409, 412, 422, 428)
@allow(Action.EDIT, on=(Asset, "asset_id"))
def update_asset(data: dict[str, Any], asset_id: int) -> Any:
    """Change an item's fields, as its edit page does. Send the version read, in the
    body (version: 409 when stale) or as If-Match (412 when stale)."""
    item = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    header = _if_match()
    if header is not None and header != item.version:
        raise auth.refusal(PreconditionFailed, _("Someone else saved this item since you read it."))
    version = data.pop("version", header)
    if version is None:
        raise auth.refusal(
            PreconditionRequired,
            _("Send the version you read: as version in the body, or as If-Match."),
        )
    # The fields a PATCH may change: the edit page's.
    sent = {name: data[name] for name in lifecycle.EDITABLE if name in data}
    fields = lifecycle.AssetFields.of(item, **sent)
    tag = (data.get("tag") or "").strip() or item.tag
    try:
        saved = lifecycle.update_asset(
            db.session,
            current_user,
            item,
            version=version,
            fields=fields,
            tag=tag,
            model=item.model,
        )
    except ConflictError:
        raise ConflictError(
            _("Someone else saved this item since you read it: read it again, then resend.")
        ) from None
    saved = lists.asset_detail(db.session, current_user, saved.id)
    return saved, 200, _etag(saved.version)
