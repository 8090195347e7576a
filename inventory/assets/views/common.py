"""The equipment pages' blueprint and what its pages share: paging, amounts, places
(where an item goes, as the user chooses it), the labels of the enums."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError
from wtforms import Field, SelectChoice

from inventory.assets import catalogue, lifecycle, places
from inventory.assets.disposal import ROUTE_LABELS
from inventory.assets.lifecycle import PLACEMENT_LABELS, STATUS_LABELS, AssetError, Where
from inventory.assets.models import (
    AssetStatus,
    EquipmentCategory,
)
from inventory.assets.works import WORK_KIND_LABELS, WORK_STATUS_LABELS
from inventory.core import policy
from inventory.core.forms import options
from inventory.core.money import AmountError, parse_amount
from inventory.core.policy import Action
from inventory.core.storage import Storage
from inventory.extensions import db
from inventory.orgs.models import Classroom, Collectivite, Ecole
from inventory.web import int_arg, language, share_labels, upload_dir

bp = Blueprint("assets", __name__)


# Labels of the equipment enums, for these pages and the registry pages.
share_labels(
    bp,
    status_labels=STATUS_LABELS,
    placement_labels=PLACEMENT_LABELS,
    work_kind_labels=WORK_KIND_LABELS,
    work_status_labels=WORK_STATUS_LABELS,
    route_labels=ROUTE_LABELS,
)


# -- helpers -----------------------------------------------------------------------------
def _page() -> int:
    return int_arg("page") or 1


def _per_page() -> int:
    return current_app.config["PAGE_SIZE"]


def _locale() -> str:
    return language()


def _upload_dir() -> Storage:
    return upload_dir("assets")


def _amount(field: Field) -> int | None:
    try:
        return parse_amount(field.data or "")
    except AmountError:
        raise AssetError(
            _l("«%(value)s» is not an amount in euros.", value=field.data), field=field.name
        ) from None


def _amount_text(cents: int | None) -> str:
    return "" if cents is None else format_decimal(Decimal(cents) / 100, format="0.00")


def _status_arg(value: str | None) -> AssetStatus:
    try:
        return AssetStatus(value or "")
    except ValueError:
        raise AssetError(_l("Choose a status."), field="status") from None


def _category_choices(cats: list[EquipmentCategory], empty: str | None = None) -> list:
    first = [(0, empty)] if empty else []
    return options(first + [(c.id, c.label(_locale())) for c in cats])


def _category(cats: list[EquipmentCategory], category_id: int | None) -> EquipmentCategory:
    found = next((c for c in cats if c.id == category_id), None)
    if found is None:
        raise AssetError(_l("Choose a category."), field="category")
    return found


def _school_label(ecole: Ecole) -> str:
    return f"{ecole.name} ({ecole.commune.name})"


def _school_choices(choices: places.PlaceChoices, empty: str) -> list:
    return options([(0, empty)] + [(e.id, _school_label(e)) for e in choices.schools])


def _where_from(value: str | None) -> Where:
    """A destination sent as ``classroom:ID``, ``school:ID`` or ``storage:ID``."""
    kind, _sep, ident = (value or "").partition(":")
    keys = {"classroom": "classroom_id", "school": "ecole_id", "storage": "collectivite_id"}
    if kind not in keys or not ident.isdigit() or len(ident) > 9:
        raise AssetError(_l("Choose where the items go."), field="destination")
    return lifecycle.resolve_where(db.session, current_user, **{keys[kind]: int(ident)})


def _export_url(fmt: str, args: dict[str, str]) -> str:
    """The export of the current list; the export endpoint lives in ``assets_io``."""
    try:
        values: dict[str, Any] = {"fmt": fmt, **args}  # query arguments, not url_for's own
        return url_for("assets_io.export", **values)
    except BuildError:
        query = f"?{urlencode(args)}" if args else ""
        return f"/equipements/export.{fmt}{query}"


# -- where an item goes --------------------------------------------------------------------
@dataclass
class Place:
    """Where new items go, from the URL: a school (and maybe a classroom) or a storage."""

    ecole: Ecole | None = None
    classroom: Classroom | None = None
    storage: Collectivite | None = None

    def args(self) -> dict[str, int]:
        if self.classroom is not None:
            return {"classroom": self.classroom.id}
        if self.ecole is not None:
            return {"ecole": self.ecole.id}
        return {"stockage": self.storage.id} if self.storage is not None else {}

    def storage_place(self) -> Collectivite:
        """The storage, for a place that is not a school (it is then a storage)."""
        assert self.storage is not None
        return self.storage


def _place_from_args(storage: bool = True) -> Place | None:
    """The place named in the URL, loaded through the policy for editing (404 otherwise)."""
    if room_id := int_arg("classroom"):
        room = policy.load_or_404(current_user, Classroom, room_id, db.session, Action.EDIT)
        return Place(ecole=room.ecole, classroom=room)
    if ecole_id := int_arg("ecole"):
        return Place(
            ecole=policy.load_or_404(current_user, Ecole, ecole_id, db.session, Action.EDIT)
        )
    if storage and (coll_id := int_arg("stockage")):
        coll = policy.load_or_404(current_user, Collectivite, coll_id, db.session, Action.EDIT)
        return Place(storage=coll)
    return None


def _room_choices(place: Place) -> list:
    if place.ecole is None:
        return options([(0, _("Storage of %(name)s", name=place.storage_place().name))])
    rooms = places.classrooms_of(db.session, current_user, place.ecole.id)
    return options([(0, _("The whole school (shared)"))] + [(r.id, r.name) for r in rooms])


def _where_for(place: Place, classroom_id: int | None) -> Where:
    if place.ecole is None:
        return lifecycle.resolve_where(
            db.session, current_user, collectivite_id=place.storage_place().id
        )
    if classroom_id:
        room = policy.load_or_404(current_user, Classroom, classroom_id, db.session, Action.EDIT)
        if room.ecole_id != place.ecole.id:
            raise AssetError(_l("Choose a classroom of this school."), field="classroom")
        return lifecycle.resolve_where(db.session, current_user, classroom_id=room.id)
    return lifecycle.resolve_where(db.session, current_user, ecole_id=place.ecole.id)


def _chosen_room(form: FlaskForm, place: Place) -> int | None:
    """The classroom picked in the form, or the one named in the URL when none was sent."""
    if "classroom" in request.form:
        return form.classroom.data or None
    return place.classroom.id if place.classroom is not None else None


def _placed_model(form: FlaskForm, cats: Any, place: Place) -> tuple[Where, Any]:
    """Where the new items go and their catalogue model (created when new), from the form."""
    category = _category(cats, form.category.data)
    where = _where_for(place, _chosen_room(form, place))
    model = catalogue.get_or_create_model(
        db.session, form.manufacturer.data or "", form.model.data or "", category
    )
    return where, model


def _choose_place(endpoint: str, title: str, storage: bool = True) -> str:
    q = (request.args.get("q") or "")[:100]
    choices = places.place_choices(db.session, current_user, q=q)
    return render_template(
        "assets/choose_place.html",
        endpoint=endpoint,
        title=title,
        q=q,
        choices=choices,
        storage=storage,
    )


def _destinations(
    asset_schools: list[Ecole], colls: list[Collectivite], rooms_of: Ecole | None
) -> list[SelectChoice]:
    """Where a selection may be moved: classrooms of one school, schools, storages."""
    out = [SelectChoice("", _("Choose…"))]
    if rooms_of is not None:
        group = _("Classrooms of %(school)s", school=rooms_of.name)
        out += [
            SelectChoice(f"classroom:{r.id}", r.name, optgroup=group)
            for r in places.classrooms_of(db.session, current_user, rooms_of.id)
        ]
    group = _("Schools (shared equipment)")
    seen: set[int] = set()
    for e in ([rooms_of] if rooms_of else []) + asset_schools:
        if e.id not in seen:
            seen.add(e.id)
            # The commune is shown when already loaded: no query per school.
            commune = e.__dict__.get("commune")
            label = f"{e.name} ({commune.name})" if commune is not None else e.name
            out.append(SelectChoice(f"school:{e.id}", label, optgroup=group))
    group = _("Storage")
    out += [SelectChoice(f"storage:{c.id}", c.name, optgroup=group) for c in colls]
    return out
