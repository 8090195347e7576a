"""Equipment pages: the list and its bulk actions, one item (add, quick add, status,
edit, move) and its photos."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import escape
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from inventory.assets import catalogue, lifecycle, lists, network, places
from inventory.assets import photos as asset_photos
from inventory.assets.forms import (
    AssetFilterForm,
    BulkForm,
    EditAssetForm,
    MoveForm,
    NewAssetForm,
    PhotoForm,
    QuickAddForm,
    StatusForm,
    status_options,
)
from inventory.assets.lifecycle import PLACEMENT_LABELS, STATUS_LABELS, AssetError
from inventory.assets.models import (
    TRANSITIONS,
    Asset,
    AssetPhoto,
    AssetStatus,
)
from inventory.assets.views.common import (
    _amount,
    _amount_text,
    _category,
    _category_choices,
    _choose_place,
    _destinations,
    _export_url,
    _locale,
    _page,
    _per_page,
    _place_from_args,
    _placed_model,
    _room_choices,
    _status_arg,
    _upload_dir,
    _where_from,
    bp,
)
from inventory.changelog.services import history_of
from inventory.core import policy, saved_filters, sorting, uploads
from inventory.core.errors import ConflictError
from inventory.core.forms import options
from inventory.core.panels import panels
from inventory.core.policy import Action
from inventory.core.storage import send_private
from inventory.extensions import db
from inventory.web import allow, attach_error, int_arg, safe_next

WARRANTY_SOON_DAYS = 60
PAGING_ARGS = frozenset({"page", "after", "before"})
# Schools and collectivités offered by the list's filters: a national scope holds tens of
# thousands, and each option costs rendering time; the hint asks to narrow the list.
LIST_CHOICES = 100


# -- equipment list and bulk actions -------------------------------------------------------
@bp.get("/equipements")
@allow(Action.READ)
def index() -> str:
    filters = lists.AssetFilters.of_list(request.args)
    form = AssetFilterForm(request.args)
    choices = places.filter_choices(
        db.session,
        current_user,
        collectivite=filters.collectivite,
        ecole=filters.ecole,
        limit=LIST_CHOICES,
    )
    every = _("All")
    form.collectivite.choices = options([(0, every), *choices.collectivites])
    form.ecole.choices = options([(0, every), *choices.schools])
    rooms = places.classrooms_of(db.session, current_user, filters.ecole) if filters.ecole else []
    form.classroom.choices = options([(0, every)] + [(r.id, r.name) for r in rooms])
    cats = catalogue.categories(db.session)
    form.category.choices = _category_choices(cats, every)
    sort = lists.ASSET_SORT.read(request.args.get("sort"))
    page = lists.list_assets(
        db.session,
        current_user,
        filters,
        _page(),
        _per_page(),
        after=int_arg("after"),
        before=int_arg("before"),
        sort=sort,
    )
    # The filters alone: what the pager, the export and the labels carry on (not a name
    # typed for saving them, sent back when it was refused).
    args = {k: v for k, v in request.args.items() if k not in PAGING_ARGS | {"filter_name"} and v}
    may_edit = policy.allowed(current_user, Action.EDIT)
    bulk = BulkForm()
    if may_edit:
        wanted = {a.collectivite_id for a in page.items}
        if filters.collectivite:
            wanted.add(filters.collectivite)
        filtered = (
            places.visible_school(db.session, current_user, filters.ecole)
            if filters.ecole
            else None
        )
        bulk.destination.choices = _destinations(
            [a.ecole for a in page.items if a.ecole is not None],
            places.collectivites_by_id(db.session, current_user, wanted),
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
        export_csv_plain=_export_url("csv", {**args, "csv": "plain"}),
        export_xlsx=_export_url("xlsx", args),
        today=date.today(),
        soon=date.today() + timedelta(days=WARRANTY_SOON_DAYS),
        # Each row's words, translated once per page rather than once per row.
        category_names={c.id: c.label(locale) for c in cats},
        status_names={s: str(label) for s, label in STATUS_LABELS.items()},
        placement_names={p: str(label) for p, label in PLACEMENT_LABELS.items()},
        # Formatted per row by the template (Markup: the tag is escaped into it).
        select_label=escape(_("Select %(tag)s")),
        headers=sorting.headers(lists.ASSET_SORT, sort),
        saved=saved_filters.filters_of(db.session, current_user, "equipment"),
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
    if action == "labels":
        # The ticked rows' labels; none ticked: those of the list's filters, as its link.
        if ids:
            return redirect(url_for("labels.print_page", ids=",".join(map(str, ids))))
        filters: dict[str, Any] = _list_filters(back)
        return redirect(url_for("labels.print_page", **filters))
    if not ids:
        flash(_("Select at least one item."), "error")
        return redirect(back)
    if action == "retire":
        # The disposal's own form: its route, date and certificate, for the ticked rows.
        return redirect(url_for("assets.retire", ids=",".join(map(str, ids))))
    try:
        if action == "status":
            result = lifecycle.bulk_update(
                db.session, current_user, ids, status=_status_arg(form.new_status.data)
            )
        elif action == "move":
            result = lifecycle.bulk_update(
                db.session, current_user, ids, where=_where_from(form.destination.data)
            )
        else:
            abort(400)
    except (AssetError, ConflictError) as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(back)
    return render_template("assets/bulk_result.html", result=result, action=action, back=back)


def _list_filters(url: str) -> dict[str, str]:
    """The filters of a list's URL (the page the bulk form came from), without its paging
    and its order, which the labels do not need."""
    query = urlsplit(url).query
    return {k: v for k, v in parse_qsl(query) if k not in PAGING_ARGS | {"sort"} and v}


# -- one item ------------------------------------------------------------------------------
def _asset_fields(form: FlaskForm) -> lifecycle.AssetFields:
    return lifecycle.AssetFields(
        serial=form.serial.data,
        supplier=form.supplier.data,
        order_number=form.order_number.data,
        invoice_number=form.invoice_number.data,
        purchase_date=form.purchase_date.data,
        price_ht_cents=_amount(form.price_ht),
        price_ttc_cents=_amount(form.price_ttc),
        warranty_end=form.warranty_end.data,
        end_of_life=form.end_of_life.data,
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
    cats = catalogue.categories(db.session)
    form.category.choices = _category_choices(cats, _("Choose…"))
    form.classroom.choices = _room_choices(place)
    if request.method == "GET" and place.classroom is not None:
        form.classroom.data = place.classroom.id
    if form.validate_on_submit():
        try:
            fields = _asset_fields(form)
            where, model = _placed_model(form, cats, place)
            asset = lifecycle.create_asset(
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
    cats = catalogue.categories(db.session)
    form.category.choices = _category_choices(cats, _("Choose…"))
    form.classroom.choices = _room_choices(place)
    if request.method == "GET" and place.classroom is not None:
        form.classroom.data = place.classroom.id
    created = None
    if form.validate_on_submit():
        try:
            fields = lifecycle.AssetFields(
                supplier=form.supplier.data,
                order_number=form.order_number.data,
                invoice_number=form.invoice_number.data,
                purchase_date=form.purchase_date.data,
                price_ht_cents=_amount(form.price_ht),
                price_ttc_cents=_amount(form.price_ttc),
                warranty_end=form.warranty_end.data,
            )
            where, model = _placed_model(form, cats, place)
            created = lifecycle.quick_add(
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
    asset = lists.asset_detail(db.session, current_user, asset_id)
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
        conflicts=lifecycle.address_conflicts(db.session, current_user, asset),
        today=today,
        soon=today + timedelta(days=WARRANTY_SOON_DAYS),
        history=history_of(db.session, current_user, asset),
        panels=panels("assets.detail", db.session, current_user, asset),
    )


@bp.post("/equipements/<int:asset_id>/statut")
@allow(Action.EDIT, on=(Asset, "asset_id"))
def change_status(asset_id: int) -> Response | tuple[str, int]:
    asset = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            lifecycle.change_status(
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
        "end_of_life": asset.end_of_life,
        "mac": asset.mac or "",
        "mac_wifi": asset.mac_wifi or "",
        "ip": asset.ip or "",
        "notes": asset.notes or "",
    }


@bp.route("/equipements/<int:asset_id>/modifier", methods=["GET", "POST"])
@allow(Action.EDIT, on=(Asset, "asset_id"))
def edit(asset_id: int) -> str | Response | tuple[str, int]:
    asset = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    asset = lists.asset_detail(db.session, current_user, asset.id)
    form = EditAssetForm()
    cats = catalogue.categories(db.session)
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
            model = catalogue.get_or_create_model(
                db.session,
                form.manufacturer.data or "",
                form.model.data or "",
                _category(cats, form.category.data),
            )
            lifecycle.update_asset(
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
    schools = places.place_choices(
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
            lifecycle.move_asset(
                db.session, current_user, asset, _where_from(form.destination.data)
            )
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
        data = form.photo.data.read(asset_photos.PHOTO_MAX_BYTES + 1)
        try:
            asset_photos.store_photo(db.session, current_user, asset, data, _upload_dir())
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
        asset_photos.delete_photo(db.session, current_user, item, _upload_dir())
        flash(_("Photo deleted."), "success")
    return redirect(url_for("assets.detail", asset_id=asset_id))
