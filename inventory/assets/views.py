"""Equipment pages: list, item, quick add, bulk actions, photos, network works, socle, the
catalogue of models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import escape
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response
from wtforms import Field, SelectChoice

from inventory.assets import catalogue, network, services, socle
from inventory.assets.forms import (
    AssetFilterForm,
    BulkForm,
    EditAssetForm,
    ModelCapabilitiesForm,
    ModelFilterForm,
    MoveForm,
    NewAssetForm,
    PhotoForm,
    PlaceFilterForm,
    QuickAddForm,
    StatusForm,
    WorkFilterForm,
    WorkForm,
    status_options,
)
from inventory.assets.models import (
    TRANSITIONS,
    Asset,
    AssetPhoto,
    AssetStatus,
    EquipmentCategory,
    NetworkWork,
    WorkKind,
    WorkStatus,
)
from inventory.assets.services import (
    PLACEMENT_LABELS,
    STATUS_LABELS,
    WORK_KIND_LABELS,
    WORK_STATUS_LABELS,
    AssetError,
    ConflictError,
    Where,
)
from inventory.changelog.services import history_of
from inventory.core import policy, uploads
from inventory.core.forms import options
from inventory.core.money import AmountError, parse_amount
from inventory.core.policy import Action
from inventory.core.storage import Storage, send_private
from inventory.extensions import db
from inventory.orgs.models import Classroom, Collectivite, Ecole
from inventory.web import allow, attach_error, int_arg, safe_next, upload_dir

bp = Blueprint("assets", __name__)

WARRANTY_SOON_DAYS = 60
PAGING_ARGS = frozenset({"page", "after", "before"})
# Schools and collectivités offered by the list's filters: a national scope holds tens of
# thousands, and each option costs rendering time; the hint asks to narrow the list.
LIST_CHOICES = 100


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    """Labels of the equipment enums, for these pages and the registry pages."""
    return {
        "status_labels": STATUS_LABELS,
        "placement_labels": PLACEMENT_LABELS,
        "work_kind_labels": WORK_KIND_LABELS,
        "work_status_labels": WORK_STATUS_LABELS,
    }


# -- helpers -----------------------------------------------------------------------------
def _page() -> int:
    return int_arg("page") or 1


def _per_page() -> int:
    return current_app.config["PAGE_SIZE"]


def _locale() -> str:
    return str(get_locale())


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


def _school_choices(choices: services.PlaceChoices, empty: str) -> list:
    return options([(0, empty)] + [(e.id, _school_label(e)) for e in choices.schools])


def _where_from(value: str | None) -> Where:
    """A destination sent as ``classroom:ID``, ``school:ID`` or ``storage:ID``."""
    kind, _sep, ident = (value or "").partition(":")
    keys = {"classroom": "classroom_id", "school": "ecole_id", "storage": "collectivite_id"}
    if kind not in keys or not ident.isdigit() or len(ident) > 9:
        raise AssetError(_l("Choose where the items go."), field="destination")
    return services.resolve_where(db.session, current_user, **{keys[kind]: int(ident)})


def _export_url(fmt: str, args: dict[str, str]) -> str:
    """The export of the current list; the export endpoint lives in ``assets_io``."""
    try:
        return url_for("assets_io.export", fmt=fmt, **args)
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
        return options([(0, _("Storage of %(name)s", name=place.storage.name))])
    rooms = services.classrooms_of(db.session, current_user, place.ecole.id)
    return options([(0, _("The whole school (shared)"))] + [(r.id, r.name) for r in rooms])


def _where_for(place: Place, classroom_id: int | None) -> Where:
    if place.ecole is None:
        return services.resolve_where(db.session, current_user, collectivite_id=place.storage.id)
    if classroom_id:
        room = policy.load_or_404(current_user, Classroom, classroom_id, db.session, Action.EDIT)
        if room.ecole_id != place.ecole.id:
            raise AssetError(_l("Choose a classroom of this school."), field="classroom")
        return services.resolve_where(db.session, current_user, classroom_id=room.id)
    return services.resolve_where(db.session, current_user, ecole_id=place.ecole.id)


def _chosen_room(form: FlaskForm, place: Place) -> int | None:
    """The classroom picked in the form, or the one named in the URL when none was sent."""
    if "classroom" in request.form:
        return form.classroom.data or None
    return place.classroom.id if place.classroom is not None else None


def _placed_model(form: FlaskForm, cats: Any, place: Place) -> tuple[Where, Any]:
    """Where the new items go and their catalogue model (created when new), from the form."""
    category = _category(cats, form.category.data)
    where = _where_for(place, _chosen_room(form, place))
    model = services.get_or_create_model(
        db.session, form.manufacturer.data or "", form.model.data or "", category
    )
    return where, model


def _choose_place(endpoint: str, title: str, storage: bool = True) -> str:
    q = (request.args.get("q") or "")[:100]
    choices = services.place_choices(db.session, current_user, q=q)
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
            for r in services.classrooms_of(db.session, current_user, rooms_of.id)
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


# -- equipment list and bulk actions -------------------------------------------------------
@bp.get("/equipements")
@allow(Action.READ)
def index() -> str:
    filters = services.AssetFilters.of_list(request.args)
    form = AssetFilterForm(request.args)
    choices = services.filter_choices(
        db.session,
        current_user,
        collectivite=filters.collectivite,
        ecole=filters.ecole,
        limit=LIST_CHOICES,
    )
    every = _("All")
    form.collectivite.choices = options([(0, every), *choices.collectivites])
    form.ecole.choices = options([(0, every), *choices.schools])
    rooms = services.classrooms_of(db.session, current_user, filters.ecole) if filters.ecole else []
    form.classroom.choices = options([(0, every)] + [(r.id, r.name) for r in rooms])
    cats = services.categories(db.session)
    form.category.choices = _category_choices(cats, every)
    page = services.list_assets(
        db.session,
        current_user,
        filters,
        _page(),
        _per_page(),
        after=int_arg("after"),
        before=int_arg("before"),
    )
    # The filters alone: what the pager, the export and the labels carry on.
    args = {k: v for k, v in request.args.items() if k not in PAGING_ARGS and v}
    may_edit = policy.allowed(current_user, Action.EDIT)
    bulk = BulkForm()
    if may_edit:
        wanted = {a.collectivite_id for a in page.items}
        if filters.collectivite:
            wanted.add(filters.collectivite)
        filtered = (
            services.visible_school(db.session, current_user, filters.ecole)
            if filters.ecole
            else None
        )
        bulk.destination.choices = _destinations(
            [a.ecole for a in page.items if a.ecole is not None],
            services.collectivites_by_id(db.session, current_user, wanted),
            filtered,
        )
    locale = _locale()
    return render_template(
        "assets/list.html",
        form=form,
        page=page,
        args=args,
        more_schools=choices.more,
        search_too_short=filters.search_too_short,
        may_edit=may_edit,
        bulk=bulk,
        export_csv=_export_url("csv", args),
        export_xlsx=_export_url("xlsx", args),
        today=date.today(),
        soon=date.today() + timedelta(days=WARRANTY_SOON_DAYS),
        # Each row's words, translated once per page rather than once per row.
        category_names={c.id: c.label(locale) for c in cats},
        status_names={s: str(label) for s, label in STATUS_LABELS.items()},
        placement_names={p: str(label) for p, label in PLACEMENT_LABELS.items()},
        # Formatted per row by the template (Markup: the tag is escaped into it).
        select_label=escape(_("Select %(tag)s")),
    )


@bp.post("/equipements/lot")
@allow(Action.EDIT)
def bulk() -> str | Response:
    form = BulkForm()
    back = safe_next(request.form.get("next"), url_for("assets.index"))
    ids = [int(v) for v in request.form.getlist("ids") if v.isdigit() and len(v) < 10][:1000]
    action = request.form.get("action", "")
    if not form.validate_on_submit():
        flash(_("The form expired: send it again."), "error")
        return redirect(back)
    if not ids:
        flash(_("Select at least one item."), "error")
        return redirect(back)
    try:
        if action == "status":
            result = services.bulk_update(
                db.session, current_user, ids, status=_status_arg(form.new_status.data)
            )
        elif action == "move":
            result = services.bulk_update(
                db.session, current_user, ids, where=_where_from(form.destination.data)
            )
        else:
            abort(400)
    except (AssetError, ConflictError) as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(back)
    return render_template("assets/bulk_result.html", result=result, action=action, back=back)


# -- one item ------------------------------------------------------------------------------
def _asset_fields(form: FlaskForm) -> services.AssetFields:
    return services.AssetFields(
        serial=form.serial.data,
        supplier=form.supplier.data,
        order_number=form.order_number.data,
        invoice_number=form.invoice_number.data,
        purchase_date=form.purchase_date.data,
        price_ht_cents=_amount(form.price_ht),
        price_ttc_cents=_amount(form.price_ttc),
        warranty_end=form.warranty_end.data,
        mac=form.mac.data,
        mac_wifi=form.mac_wifi.data,
        ip=form.ip.data,
        notes=form.notes.data,
    )


@bp.route("/equipements/nouveau", methods=["GET", "POST"])
@allow(Action.EDIT)
def new() -> str | Response | tuple[str, int]:
    place = _place_from_args()
    if place is None:
        return _choose_place("assets.new", _("Add an item"))
    form = NewAssetForm()
    cats = services.categories(db.session)
    form.category.choices = _category_choices(cats, _("Choose…"))
    form.classroom.choices = _room_choices(place)
    if request.method == "GET" and place.classroom is not None:
        form.classroom.data = place.classroom.id
    if form.validate_on_submit():
        try:
            fields = _asset_fields(form)
            where, model = _placed_model(form, cats, place)
            asset = services.create_asset(
                db.session,
                current_user,
                where=where,
                model=model,
                status=_status_arg(form.status.data),
                fields=fields,
                tag=(form.tag.data or "").strip() or None,
            )
        except AssetError as exc:
            db.session.rollback()
            attach_error(form, exc, "model")
        else:
            flash(_("Item %(tag)s added.", tag=asset.tag), "success")
            return redirect(url_for("assets.detail", asset_id=asset.id))
    status = 422 if form.errors else 200
    return render_template("assets/new.html", form=form, place=place), status


@bp.route("/equipements/ajout-rapide", methods=["GET", "POST"])
@allow(Action.EDIT)
def quick_add() -> str | tuple[str, int]:
    place = _place_from_args()
    if place is None:
        return _choose_place("assets.quick_add", _("Quick add"))
    form = QuickAddForm()
    cats = services.categories(db.session)
    form.category.choices = _category_choices(cats, _("Choose…"))
    form.classroom.choices = _room_choices(place)
    if request.method == "GET" and place.classroom is not None:
        form.classroom.data = place.classroom.id
    created = None
    if form.validate_on_submit():
        try:
            fields = services.AssetFields(
                supplier=form.supplier.data,
                order_number=form.order_number.data,
                invoice_number=form.invoice_number.data,
                purchase_date=form.purchase_date.data,
                price_ht_cents=_amount(form.price_ht),
                price_ttc_cents=_amount(form.price_ttc),
                warranty_end=form.warranty_end.data,
            )
            where, model = _placed_model(form, cats, place)
            created = services.quick_add(
                db.session,
                current_user,
                where=where,
                model=model,
                serials=(form.serials.data or "").splitlines(),
                status=_status_arg(form.status.data),
                fields=fields,
            )
        except AssetError as exc:
            db.session.rollback()
            attach_error(form, exc, "serials", {"serial": "serials"})
    status = 422 if form.errors else 200
    return render_template("assets/quick_add.html", form=form, place=place, created=created), status


@bp.get("/equipements/<int:asset_id>")
@allow(Action.READ, on=(Asset, "asset_id"))
def detail(asset_id: int) -> str:
    return _detail_page(asset_id)


def _detail_page(
    asset_id: int, *, status_form: StatusForm | None = None, photo_form: PhotoForm | None = None
) -> str:
    asset = services.asset_detail(db.session, current_user, asset_id)
    may_edit = policy.can(current_user, Action.EDIT, asset, db.session)
    status_form = status_form or StatusForm()
    nexts = [s for s in AssetStatus if s in TRANSITIONS[asset.status]]
    status_form.status.choices = status_options(nexts) if nexts else []
    today = date.today()
    return render_template(
        "assets/detail.html",
        asset=asset,
        may_edit=may_edit,
        status_form=status_form,
        photo_form=photo_form or PhotoForm(),
        vendors={
            "mac": network.mac_vendor(asset.mac),
            "mac_wifi": network.mac_vendor(asset.mac_wifi),
        },
        conflicts=services.address_conflicts(db.session, current_user, asset),
        today=today,
        soon=today + timedelta(days=WARRANTY_SOON_DAYS),
        history=history_of(db.session, current_user, asset),
    )


@bp.post("/equipements/<int:asset_id>/statut")
@allow(Action.EDIT, on=(Asset, "asset_id"))
def change_status(asset_id: int) -> Response | tuple[str, int]:
    asset = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            services.change_status(
                db.session,
                current_user,
                asset,
                _status_arg(form.status.data),
                (form.note.data or "").strip() or None,
            )
        except (AssetError, ConflictError) as exc:
            db.session.rollback()
            form.status.errors = [*form.status.errors, str(exc.message)]
        else:
            flash(
                _("%(tag)s is now %(status)s.", tag=asset.tag, status=STATUS_LABELS[asset.status]),
                "success",
            )
            return redirect(url_for("assets.detail", asset_id=asset.id))
    return _detail_page(asset_id, status_form=form), 422


def _edit_values(asset: Asset) -> dict[str, Any]:
    """What the edit form shows of the saved item."""
    return {
        "category": asset.category_id,
        "manufacturer": asset.model.manufacturer.name,
        "model": asset.model.name,
        "tag": asset.tag,
        "serial": asset.serial or "",
        "supplier": asset.supplier or "",
        "order_number": asset.order_number or "",
        "invoice_number": asset.invoice_number or "",
        "purchase_date": asset.purchase_date,
        "price_ht": _amount_text(asset.price_ht_cents),
        "price_ttc": _amount_text(asset.price_ttc_cents),
        "warranty_end": asset.warranty_end,
        "mac": asset.mac or "",
        "mac_wifi": asset.mac_wifi or "",
        "ip": asset.ip or "",
        "notes": asset.notes or "",
    }


@bp.route("/equipements/<int:asset_id>/modifier", methods=["GET", "POST"])
@allow(Action.EDIT, on=(Asset, "asset_id"))
def edit(asset_id: int) -> str | Response | tuple[str, int]:
    asset = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    asset = services.asset_detail(db.session, current_user, asset.id)
    form = EditAssetForm()
    cats = services.categories(db.session)
    form.category.choices = _category_choices(cats)
    status = 200
    conflict: list[tuple[Any, Any, Any]] | None = None
    if request.method == "GET":
        for name, value in _edit_values(asset).items():
            form[name].data = value
        form.version.data = str(asset.version)
    elif form.validate_on_submit():
        version = form.version.data or ""
        try:
            fields = _asset_fields(form)
            model = services.get_or_create_model(
                db.session,
                form.manufacturer.data or "",
                form.model.data or "",
                _category(cats, form.category.data),
            )
            services.update_asset(
                db.session,
                current_user,
                asset,
                version=int(version) if version.isdigit() else -1,
                fields=fields,
                tag=(form.tag.data or "").strip() or asset.tag,
                model=model,
            )
        except ConflictError:
            db.session.rollback()
            saved = _edit_values(asset)
            conflict = [
                (form[name].label.text, saved[name], form[name].data)
                for name in saved
                if str(saved[name] or "") != str(form[name].data or "")
            ]
            # The next save is made knowingly over the other person's.
            form.version.data = str(asset.version)
            status = 409
        except AssetError as exc:
            db.session.rollback()
            attach_error(form, exc, "model")
            status = 422
        else:
            flash(_("Item %(tag)s saved.", tag=asset.tag), "success")
            return redirect(url_for("assets.detail", asset_id=asset.id))
    else:
        status = 422
    move_form = MoveForm()
    move_form.destination.choices = _move_choices(asset)
    return render_template(
        "assets/edit.html", asset=asset, form=form, move_form=move_form, conflict=conflict
    ), status


def _move_choices(asset: Asset) -> list[SelectChoice]:
    colls = [asset.collectivite]
    schools = services.place_choices(
        db.session, current_user, collectivite=asset.collectivite_id, include=asset.ecole_id
    ).schools
    return _destinations(schools, colls, asset.ecole)


@bp.post("/equipements/<int:asset_id>/deplacer")
@allow(Action.EDIT, on=(Asset, "asset_id"))
def move(asset_id: int) -> Response:
    asset = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    form = MoveForm()
    if form.validate_on_submit():
        try:
            services.move_asset(db.session, current_user, asset, _where_from(form.destination.data))
        except (AssetError, ConflictError) as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
            return redirect(url_for("assets.edit", asset_id=asset.id))
        flash(_("Item %(tag)s moved.", tag=asset.tag), "success")
    return redirect(url_for("assets.detail", asset_id=asset.id))


# -- photos --------------------------------------------------------------------------------
@bp.post("/equipements/<int:asset_id>/photos")
@allow(Action.EDIT, on=(Asset, "asset_id"))
def upload_photo(asset_id: int) -> Response | tuple[str, int]:
    asset = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    form = PhotoForm()
    if form.validate_on_submit():
        data = form.photo.data.read(services.PHOTO_MAX_BYTES + 1)
        try:
            services.store_photo(db.session, current_user, asset, data, _upload_dir())
        except (AssetError, uploads.UploadError) as exc:
            db.session.rollback()
            form.photo.errors = [*form.photo.errors, str(exc.message)]
        else:
            flash(_("Photo added."), "success")
            return redirect(url_for("assets.detail", asset_id=asset.id))
    return _detail_page(asset_id, photo_form=form), 422


@bp.get("/equipements/photos/<int:photo_id>")
@allow(Action.READ, on=(AssetPhoto, "photo_id"))
def photo(photo_id: int) -> Response:
    item = policy.load_or_404(current_user, AssetPhoto, photo_id, db.session)
    key = uploads.stored_key(item.stored_name)
    return send_private(_upload_dir(), key, item.content_type, key or "")


@bp.post("/equipements/photos/<int:photo_id>/supprimer")
@allow(Action.EDIT, on=(AssetPhoto, "photo_id"))
def delete_photo(photo_id: int) -> Response:
    item = policy.load_or_404(current_user, AssetPhoto, photo_id, db.session, Action.EDIT)
    asset_id = item.asset_id
    if FlaskForm().validate_on_submit():
        services.delete_photo(db.session, current_user, item, _upload_dir())
        flash(_("Photo deleted."), "success")
    return redirect(url_for("assets.detail", asset_id=asset_id))


# -- network works -------------------------------------------------------------------------
@bp.get("/travaux")
@allow(Action.READ)
def works() -> str:
    kind, status = request.args.get("kind", ""), request.args.get("status", "")
    filters = services.WorkFilters(
        ecole=int_arg("ecole"),
        collectivite=int_arg("collectivite"),
        kind=WorkKind(kind) if kind in WorkKind._value2member_map_ else None,
        status=WorkStatus(status) if status in WorkStatus._value2member_map_ else None,
    )
    form = WorkFilterForm(request.args)
    choices = services.place_choices(
        db.session, current_user, collectivite=filters.collectivite, include=filters.ecole
    )
    every = _("All")
    form.collectivite.choices = options(
        [(0, every)] + [(c.id, c.name) for c in choices.collectivites]
    )
    form.ecole.choices = _school_choices(choices, every)
    page = services.list_works(db.session, current_user, filters, _page(), _per_page())
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "assets/works.html",
        form=form,
        page=page,
        args=args,
        more_schools=choices.more,
        may_edit=policy.allowed(current_user, Action.EDIT),
        filters=filters,
    )


def _work_fields(form: WorkForm) -> services.WorkFields:
    try:
        kind, status = WorkKind(form.kind.data), WorkStatus(form.status.data)
    except ValueError:
        raise AssetError(_l("Choose a kind and a status."), field="kind") from None
    return services.WorkFields(
        kind=kind,
        title=form.title.data or "",
        status=status,
        contractor=(form.contractor.data or "").strip() or None,
        quote_cents=_amount(form.quote),
        invoice_cents=_amount(form.invoice),
        planned_start=form.planned_start.data,
        planned_end=form.planned_end.data,
        actual_start=form.actual_start.data,
        actual_end=form.actual_end.data,
        accepted_on=form.accepted_on.data,
        notes=(form.notes.data or "").strip() or None,
    )


def _work_values(work: NetworkWork) -> dict[str, Any]:
    return {
        "kind": work.kind.value,
        "title": work.title,
        "contractor": work.contractor or "",
        "quote": _amount_text(work.quote_cents),
        "invoice": _amount_text(work.invoice_cents),
        "planned_start": work.planned_start,
        "planned_end": work.planned_end,
        "actual_start": work.actual_start,
        "actual_end": work.actual_end,
        "status": work.status.value,
        "accepted_on": work.accepted_on,
        "notes": work.notes or "",
        "classrooms": [r.id for r in work.classrooms],
    }


@bp.route("/travaux/nouveau", methods=["GET", "POST"])
@allow(Action.EDIT)
def new_work() -> str | Response | tuple[str, int]:
    place = _place_from_args(storage=False)
    if place is None:
        return _choose_place("assets.new_work", _("New network works"), storage=False)
    ecole = place.ecole
    assert ecole is not None
    form = WorkForm()
    rooms = services.classrooms_of(db.session, current_user, ecole.id)
    form.classrooms.choices = options((r.id, r.name) for r in rooms)
    if request.method == "GET" and place.classroom is not None:
        form.classrooms.data = [place.classroom.id]
    if form.validate_on_submit():
        try:
            work = services.save_work(
                db.session,
                current_user,
                None,
                ecole=ecole,
                fields=_work_fields(form),
                classroom_ids=form.classrooms.data or [],
            )
        except (AssetError, ConflictError) as exc:
            db.session.rollback()
            attach_error(form, exc, "title")
        else:
            flash(_("Works «%(title)s» recorded.", title=work.title), "success")
            return redirect(url_for("assets.work", work_id=work.id))
    status = 422 if form.errors else 200
    return render_template("assets/work_new.html", form=form, ecole=ecole), status


@bp.route("/travaux/<int:work_id>", methods=["GET", "POST"])
@allow(Action.READ, on=(NetworkWork, "work_id"))
def work(work_id: int) -> str | Response | tuple[str, int]:
    item = services.work_detail(db.session, current_user, work_id)
    may_edit = policy.can(current_user, Action.EDIT, item, db.session)
    form = WorkForm()
    form.classrooms.choices = options((r.id, r.name) for r in item.ecole.classrooms)
    status = 200
    conflict = None
    if request.method == "GET":
        for name, value in _work_values(item).items():
            form[name].data = value
        form.version.data = str(item.version)
    elif not may_edit:
        raise policy.Denied()
    elif form.validate_on_submit():
        version = form.version.data or ""
        try:
            services.save_work(
                db.session,
                current_user,
                item,
                ecole=item.ecole,
                fields=_work_fields(form),
                classroom_ids=form.classrooms.data or [],
                version=int(version) if version.isdigit() else -1,
            )
        except ConflictError as exc:
            db.session.rollback()
            conflict = exc.message
            form.version.data = str(item.version)
            status = 409
        except AssetError as exc:
            db.session.rollback()
            attach_error(form, exc, "title")
            status = 422
        else:
            flash(_("Works saved."), "success")
            return redirect(url_for("assets.work", work_id=item.id))
    else:
        status = 422
    return render_template(
        "assets/work.html",
        work=item,
        form=form,
        may_edit=may_edit,
        conflict=conflict,
        history=history_of(db.session, current_user, item),
    ), status


# -- socle ---------------------------------------------------------------------------------
@bp.get("/socle/classes-manquantes")
@allow(Action.READ)
def missing_socle() -> str:
    collectivite, ecole = int_arg("collectivite"), int_arg("ecole")
    form = PlaceFilterForm(request.args)
    choices = services.place_choices(
        db.session, current_user, collectivite=collectivite, include=ecole
    )
    every = _("All")
    form.collectivite.choices = options(
        [(0, every)] + [(c.id, c.name) for c in choices.collectivites]
    )
    form.ecole.choices = _school_choices(choices, every)
    page = services.missing_socle_classrooms(
        db.session,
        current_user,
        collectivite=collectivite,
        ecole=ecole,
        page=_page(),
        per_page=_per_page(),
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "assets/missing_socle.html",
        form=form,
        page=page,
        args=args,
        more_schools=choices.more,
        statuses=socle.classroom_status(db.session, [r.id for r in page.items]),
        referentiel=socle.current_referentiel(db.session),
        may_edit=policy.allowed(current_user, Action.EDIT),
    )


# -- the catalogue -------------------------------------------------------------------------
@bp.get("/equipements/modeles")
@allow(Action.READ)
def models() -> str:
    filters = catalogue.ModelFilters(
        q=(request.args.get("q") or "")[:100], category=int_arg("category")
    )
    form = ModelFilterForm(request.args)
    cats = catalogue.categories(db.session)
    form.category.choices = _category_choices(cats, _("All"))
    page = catalogue.list_models(db.session, current_user, filters, _page(), _per_page())
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "assets/models.html",
        form=form,
        page=page,
        args=args,
        may_admin=policy.allowed(current_user, Action.ADMIN),
    )


@bp.route("/equipements/modeles/<int:model_id>", methods=["GET", "POST"])
@allow(Action.READ)
def model(model_id: int) -> str | Response | tuple[str, int]:
    detail = catalogue.model_detail(db.session, current_user, model_id)
    item = detail.model
    may_admin = policy.allowed(current_user, Action.ADMIN)
    form = ModelCapabilitiesForm()
    if request.method == "GET":
        form.own.data = item.capabilities is not None
        form.capabilities.data = [c.value for c in item.capability_list]
    elif not may_admin:
        raise policy.Denied()
    elif form.validate_on_submit():
        wanted = list(form.capabilities.data or []) if form.own.data else None
        catalogue.set_capabilities(db.session, current_user, item, wanted)
        flash(_("Model %(name)s saved.", name=item.full_name), "success")
        return redirect(url_for("assets.model", model_id=item.id))
    return render_template(
        "assets/model.html",
        detail=detail,
        model=item,
        form=form,
        may_admin=may_admin,
        history=history_of(db.session, current_user, item),
    ), (422 if form.errors else 200)
