"""/api/v1 dossier writes: open a draft dossier for a collectivité under a scheme (the
schools it covers, its planned spending), and change it (the fields not sent are kept),
through the grants' own services under one version check (grants.dossiers)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields

from inventory.api import common
from inventory.api.docs import SUMMARIES
from inventory.api.grants import DossierDetailSchema
from inventory.api.records import blp, problems
from inventory.api.schemas import N_, Int, Text
from inventory.core import policy
from inventory.core.errors import ConflictError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants import dossiers, schemes
from inventory.grants.models import Dossier
from inventory.orgs.models import Collectivite
from inventory.web import allow

DOSSIER_FIELDS = tuple(dossiers.DossierFields.__dataclass_fields__)


class SchoolCoverSchema(Schema):
    ecole_id = Int(required=True)
    classes = Int(
        allow_none=True, metadata={"description": N_("None: the school's target classrooms")}
    )
    pupils = Int(allow_none=True, metadata={"description": N_("None: the school's pupils")})


class DossierValues(Schema):
    """A dossier's own fields; on a change, those not sent are kept (schools too)."""

    title = Text()
    reference = Text(allow_none=True)
    convention_max_cents = Int(allow_none=True)
    decision_on = fields.Date(allow_none=True)
    convention_signed_on = fields.Date(allow_none=True)
    spending_deadline = fields.Date(allow_none=True)
    planned_cents = fields.Dict(
        keys=Text(),
        values=Int(),
        metadata={"description": N_("Planned spending per volet code, in cents")},
    )
    schools = fields.List(
        fields.Nested(SchoolCoverSchema),
        metadata={"description": N_("The schools covered (all of the collectivité's)")},
    )


class DossierCreate(DossierValues):
    collectivite_id = Int(required=True)
    scheme_id = Int(required=True)


class DossierPatch(DossierValues, common.Versioned):
    pass


SUMMARIES.update(
    {
        "post/dossiers": _l(
            "Open a draft dossier for a collectivité under a scheme; it freezes the "
            "scheme's current rules."
        ),
        "patch/dossiers/{dossier_id}": _l(
            "Change a dossier (its fields, its schools); the fields not sent are kept. Send "
            "the version read, in the body (409 when stale) or as If-Match (412)."
        ),
    }
)


def _fields(data: dict[str, Any], dossier: Dossier | None) -> dossiers.DossierFields:
    values: dict[str, Any] = {"title": "", "planned_cents": {}}
    if dossier is not None:
        values.update({n: getattr(dossier, n) for n in DOSSIER_FIELDS})
    values.update({n: data[n] for n in DOSSIER_FIELDS if n in data})
    return dossiers.DossierFields(**values)


def _schools(data: dict[str, Any], dossier: Dossier | None) -> list[dossiers.SchoolCover]:
    if "schools" in data:
        return [
            dossiers.SchoolCover(s["ecole_id"], s.get("classes"), s.get("pupils"))
            for s in data["schools"]
        ]
    if dossier is None:
        return []
    return [dossiers.SchoolCover(s.ecole_id, s.classes, s.pupils) for s in dossier.schools]


def _detail(dossier_id: int) -> Any:
    found = dossiers.dossier_detail(db.session, current_user, dossier_id)
    return found, 200, common.etag(found.version)


@blp.route("/dossiers", methods=["POST"], endpoint="create_dossier")
@allow(Action.FINANCE)
@blp.arguments(DossierCreate)
@blp.response(201, DossierDetailSchema)
@problems(403, 422)
@common.creates
def create_dossier(data: dict[str, Any]) -> Any:
    """Open a draft dossier for a collectivité under a scheme; it freezes the scheme's
    current rules."""
    coll = policy.load_or_404(
        current_user, Collectivite, data["collectivite_id"], db.session, Action.FINANCE
    )
    scheme = schemes.scheme_by_id(db.session, data["scheme_id"])
    created = dossiers.create_dossier(
        db.session,
        current_user,
        collectivite=coll,
        scheme=scheme,
        fields=_fields(data, None),
        schools=_schools(data, None),
    )
    found, _code, headers = _detail(created.id)
    return found, 201, {**headers, "Location": url_for("api_records.dossier", dossier_id=found.id)}


@blp.route("/dossiers/<int:dossier_id>", methods=["PATCH"], endpoint="update_dossier")
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
@common.scoped(Dossier, "dossier_id", Action.FINANCE)
@blp.arguments(DossierPatch)
@blp.response(200, DossierDetailSchema)
@problems(403, 409, 412, 422, 428)
def update_dossier(data: dict[str, Any], dossier_id: int) -> Any:
    """Change a dossier (its fields, its schools); the fields not sent are kept. Send the
    version read, in the body (409 when stale) or as If-Match (412)."""
    found = dossiers.dossier_detail(db.session, current_user, dossier_id, Action.FINANCE)
    version = common.version_sent(data, found.version)
    try:
        dossiers.update_dossier(
            db.session,
            current_user,
            found,
            version=version,
            fields=_fields(data, found),
            schools=_schools(data, found),
        )
    except ConflictError:
        raise common.reworded_conflict() from None
    return _detail(dossier_id)
