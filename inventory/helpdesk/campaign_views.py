"""Inventory campaign pages: start a school's campaign, check its rooms one by one by
scanning what they hold, read and export the results, move misplaced items, close it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from inventory.assets import places
from inventory.core import exporting, policy
from inventory.core.errors import DomainError
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.helpdesk import campaigns
from inventory.helpdesk.forms import CampaignStartForm, MoveForm, RoomForm, ScanForm
from inventory.helpdesk.models import CampaignStatus, InventoryCampaign
from inventory.orgs.models import Ecole
from inventory.web import allow, attach_error, int_arg

bp = Blueprint("campaigns", __name__)


@bp.get("/inventaires")
@allow(Action.READ)
def index() -> str:
    return render_template(
        "helpdesk/campaigns.html",
        campaigns=campaigns.campaigns(db.session, current_user),
        may_edit=policy.allowed(current_user, Action.EDIT),
    )


@bp.route("/inventaires/nouveau", methods=["GET", "POST"])
@allow(Action.EDIT)
def new() -> Any:
    form = CampaignStartForm()
    q = request.args.get("q", "")[:100]
    preset = int_arg("ecole")
    choices = places.place_choices(db.session, current_user, q=q, include=preset)
    form.ecole.choices = options(
        [(0, _("Choose a school"))]
        + [(e.id, f"{e.name} ({e.commune.name})") for e in choices.schools]
    )
    if request.method == "GET" and preset:
        form.ecole.data = preset
    if form.validate_on_submit():
        if not form.ecole.data:
            form.ecole.errors = [_("Choose a school.")]
        else:
            ecole = policy.load_or_404(
                current_user, Ecole, form.ecole.data, db.session, Action.EDIT
            )
            try:
                campaign = campaigns.start_campaign(db.session, current_user, ecole)
            except DomainError as exc:
                db.session.rollback()
                attach_error(form, exc, "ecole")
            else:
                return redirect(url_for("campaigns.campaign", campaign_id=campaign.id))
    status = 422 if form.errors else 200
    return render_template(
        "helpdesk/campaign_new.html", form=form, q=q, more=choices.more, preset=preset
    ), status


def _campaign(campaign_id: int, action: Action = Action.READ) -> InventoryCampaign:
    return policy.load_or_404(current_user, InventoryCampaign, campaign_id, db.session, action)


@bp.get("/inventaires/<int:campaign_id>")
@allow(Action.READ, on=(InventoryCampaign, "campaign_id"))
def campaign(campaign_id: int) -> str:
    item = _campaign(campaign_id)
    results = campaigns.campaign_results(db.session, current_user, item)
    wanted = int_arg("salle")
    room = next((p.room for p in results.rooms if p.room.id == wanted), None)
    room_form = RoomForm(formdata=None)
    room_form.classroom.choices = options((p.room.id, p.room.name) for p in results.rooms)
    room_form.classroom.data = room.id if room is not None else None
    scan_form = ScanForm(formdata=None)
    scan_form.classroom.data = str(room.id) if room is not None else ""
    return render_template(
        "helpdesk/campaign.html",
        campaign=item,
        results=results,
        room=room,
        in_room=results.in_room(room.id) if room is not None else [],
        room_form=room_form,
        scan_form=scan_form,
        may_edit=policy.can(current_user, Action.EDIT, item, db.session),
        is_open=item.status is CampaignStatus.OPEN,
        close_form=FlaskForm(formdata=None),
    )


def _back_to_room(campaign_id: int, room_id: int | None) -> Response:
    # No #fragment: a page opened at a fragment ignores the code field's autofocus.
    return redirect(url_for("campaigns.campaign", campaign_id=campaign_id, salle=room_id or None))


@bp.post("/inventaires/<int:campaign_id>/salle")
@allow(Action.EDIT, on=(InventoryCampaign, "campaign_id"))
def visit_room(campaign_id: int) -> Response:
    item = _campaign(campaign_id, Action.EDIT)
    form = RoomForm()
    form.classroom.choices = []
    if not form.validate_on_submit():
        return _back_to_room(campaign_id, None)
    try:
        room = campaigns.visit_room(db.session, current_user, item, form.classroom.data)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return _back_to_room(campaign_id, None)
    return _back_to_room(campaign_id, room.id)


@bp.post("/inventaires/<int:campaign_id>/scan")
@allow(Action.EDIT, on=(InventoryCampaign, "campaign_id"))
def record_scan(campaign_id: int) -> Response:
    item = _campaign(campaign_id, Action.EDIT)
    form = ScanForm()
    value = form.classroom.data or ""
    room_id = int(value) if value.isdigit() and len(value) < 10 else None
    if not form.validate_on_submit():
        flash(_("Type or scan a code."), "error")
        return _back_to_room(campaign_id, room_id)
    try:
        outcome = campaigns.record_scan(
            db.session, current_user, item, room_id, form.code.data or ""
        )
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return _back_to_room(campaign_id, room_id)
    if outcome.kind == "room":
        flash(_("Now checking %(room)s.", room=outcome.room.name), "info")  # type: ignore[union-attr]
        return _back_to_room(campaign_id, outcome.room.id)  # type: ignore[union-attr]
    if outcome.kind == "unknown":
        flash(_("Unknown code: %(code)s.", code=outcome.raw), "error")
    elif outcome.kind == "found":
        flash(
            _("%(tag)s is in its place.", tag=outcome.asset.tag),  # type: ignore[union-attr]
            "success",
        )
    else:
        flash(
            _(
                "%(tag)s is recorded elsewhere: it is listed as misplaced.",
                tag=outcome.asset.tag,  # type: ignore[union-attr]
            ),
            "error",
        )
    return _back_to_room(campaign_id, room_id)


@bp.get("/inventaires/<int:campaign_id>/resultats")
@allow(Action.READ, on=(InventoryCampaign, "campaign_id"))
def results(campaign_id: int) -> str:
    item = _campaign(campaign_id)
    results = campaigns.campaign_results(db.session, current_user, item)
    return render_template(
        "helpdesk/campaign_results.html",
        campaign=item,
        results=results,
        movable={s.id for s in results.misplaced if campaigns.movable(s, item)},
        may_edit=policy.can(current_user, Action.EDIT, item, db.session),
        move_form=MoveForm(formdata=None),
        close_form=FlaskForm(formdata=None),
        may_export=policy.allowed(current_user, Action.EXPORT),
    )


@bp.post("/inventaires/<int:campaign_id>/deplacer")
@allow(Action.EDIT, on=(InventoryCampaign, "campaign_id"))
def move_here(campaign_id: int) -> Response:
    item = _campaign(campaign_id, Action.EDIT)
    form = MoveForm()
    value = form.scan.data or ""
    if form.validate_on_submit():
        try:
            asset = campaigns.move_here(
                db.session, current_user, item, int(value) if value.isdigit() else None
            )
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            place = asset.classroom.name if asset.classroom else ""
            flash(_("%(tag)s is now recorded in %(room)s.", tag=asset.tag, room=place), "success")
    return redirect(url_for("campaigns.results", campaign_id=campaign_id))


@bp.post("/inventaires/<int:campaign_id>/cloturer")
@allow(Action.EDIT, on=(InventoryCampaign, "campaign_id"))
def close(campaign_id: int) -> Response:
    item = _campaign(campaign_id, Action.EDIT)
    if FlaskForm().validate_on_submit():
        campaigns.close_campaign(db.session, current_user, item)
        flash(_("The campaign is closed."), "success")
    return redirect(url_for("campaigns.results", campaign_id=campaign_id))


@bp.get("/inventaires/<int:campaign_id>/rapport.csv")
@allow(Action.EXPORT, on=(InventoryCampaign, "campaign_id"))
def report(campaign_id: int) -> Response:
    item = _campaign(campaign_id, Action.EXPORT)
    results = campaigns.campaign_results(db.session, current_user, item)
    labels = {
        "found": _("found"),
        "misplaced": _("misplaced"),
        "missing": _("missing"),
        "unknown": _("unknown code"),
    }
    headers = [
        _("Result"),
        _("Asset tag"),
        _("Category"),
        _("Model"),
        _("Recorded place"),
        _("Scanned in"),
        _("Code read"),
        _("When"),
    ]
    rows = list(campaigns.report_rows(results, labels))
    name = f"inventaire-{item.ecole.uai}-{item.id}.csv"
    return exporting.download(exporting.CSV, name, headers, rows)
