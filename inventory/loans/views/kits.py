"""The kits' pages: the list, a kit's week and bookings, its edit page, its iCalendar."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.core import addresses, policy
from inventory.core.db import utcnow
from inventory.core.errors import ConflictError
from inventory.core.forms import sent_version
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.loans import kits as kit_service
from inventory.loans.bookings import kit_bookings
from inventory.loans.forms import BookingForm, KitForm
from inventory.loans.lists import kit_loans, open_loans
from inventory.loans.models import Kit
from inventory.loans.rules import LoanError, retention_days
from inventory.loans.views.blueprint import bp, week_asked, week_of
from inventory.orgs.models import Ecole
from inventory.training.calendar import Event, ics_calendar
from inventory.training.times import local, local_day
from inventory.web import allow, attach_error, int_arg


@bp.get("/prets")
@allow(Action.READ)
def index() -> str:
    ecole = int_arg("ecole")
    overdue = request.args.get("retard") == "1"
    return render_template(
        "loans/index.html",
        kits=kit_service.kits_of(db.session, current_user, ecole),
        loans=open_loans(db.session, current_user, ecole_id=ecole, overdue_only=overdue),
        overdue=overdue,
        ecole=ecole,
        may_see_family=policy.allowed(current_user, Action.EDIT),
        today=local_day(utcnow()),
        retention_days=retention_days(current_app.config),
    )


def _kit_form(kit: Kit | None, ecole: Ecole) -> KitForm:
    form = KitForm(obj=kit) if kit else KitForm()
    items = kit_service.candidate_items(db.session, current_user, kit, ecole)
    form.asset_ids.choices = [(a.id, f"{a.tag} — {a.model.name}") for a in items]
    if kit is not None and request.method == "GET":
        form.asset_ids.data = [a.id for a in kit.items]
        form.version.data = str(kit.version)
    return form


@bp.route("/prets/ecoles/<int:ecole_id>/kits/nouveau", methods=["GET", "POST"])
@allow(Action.EDIT, on=(Ecole, "ecole_id"))
def new_kit(ecole_id: int) -> Any:
    ecole = policy.load_or_404(current_user, Ecole, ecole_id, db.session, Action.EDIT)
    form = _kit_form(None, ecole)
    if form.validate_on_submit():
        try:
            kit = kit_service.create_kit(
                db.session, current_user, ecole, form.name.data or "", form.asset_ids.data or []
            )
        except LoanError as exc:
            attach_error(form, exc, "name")
        else:
            return redirect(url_for("loans.kit", kit_id=kit.id))
    return render_template("loans/kit_form.html", form=form, ecole=ecole, kit=None)


@bp.route("/prets/kits/<int:kit_id>/modifier", methods=["GET", "POST"])
@allow(Action.EDIT, on=(Kit, "kit_id"))
def edit_kit(kit_id: int) -> Any:
    kit = kit_service.kit_detail(db.session, current_user, kit_id, Action.EDIT)
    form = _kit_form(kit, kit.ecole)
    if form.validate_on_submit():
        version = sent_version(form)
        try:
            kit_service.update_kit(
                db.session,
                current_user,
                kit,
                version,
                name=form.name.data or "",
                active=bool(form.active.data),
                asset_ids=form.asset_ids.data or [],
            )
        except ConflictError as exc:
            # Saved by someone else meanwhile: the form again, what was typed kept.
            attach_error(form, exc, "name")
            kit = kit_service.kit_detail(db.session, current_user, kit_id, Action.EDIT)
            page = render_template("loans/kit_form.html", form=form, ecole=kit.ecole, kit=kit)
            return page, 409
        except LoanError as exc:
            attach_error(form, exc, "name")
        else:
            return redirect(url_for("loans.kit", kit_id=kit.id))
    return render_template("loans/kit_form.html", form=form, ecole=kit.ecole, kit=kit)


@bp.get("/prets/kits/<int:kit_id>")
@allow(Action.READ, on=(Kit, "kit_id"))
def kit(kit_id: int) -> str:
    kit = kit_service.kit_detail(db.session, current_user, kit_id)
    return kit_page(kit, BookingForm())


def kit_page(kit: Kit, form: BookingForm, status: int = 200) -> Any:
    may_edit = policy.can(current_user, Action.EDIT, kit, db.session)
    base = addresses.base_url() or addresses.request_base() or ""
    return (
        render_template(
            "loans/kit.html",
            kit=kit,
            week=week_of(db.session, kit, week_asked()),
            form=form,
            may_edit=may_edit,
            public_url=base + url_for("loans.public", link=kit.booking_token) if may_edit else None,
            feed_url=base + url_for("loans.public_feed", link=kit.booking_token)
            if may_edit
            else None,
            loans=kit_loans(db.session, kit),
        ),
        status,
    )


@bp.post("/prets/kits/<int:kit_id>/lien")
@allow(Action.EDIT, on=(Kit, "kit_id"))
def renew_link(kit_id: int) -> Response:
    kit = kit_service.kit_detail(db.session, current_user, kit_id, Action.EDIT)
    kit_service.renew_link(db.session, current_user, kit)
    flash(_("A new booking link was made: the old one no longer works."), "success")
    return redirect(url_for("loans.kit", kit_id=kit.id))


def calendar_response(kit: Kit, *, attachment: bool) -> Response:
    """The kit's bookings as iCalendar: a term back, a year ahead."""
    now = utcnow()
    # A term back (what a subscriber still looks at) and a year ahead.
    found = kit_bookings(db.session, kit, now - timedelta(days=92), now + timedelta(days=366))
    base = addresses.base_url() or addresses.request_base() or ""
    host = urlsplit(base).hostname or "socle"
    events = [
        Event(
            uid=f"loan-booking-{b.id}@{host}",
            start=b.starts_at,
            end=b.ends_at,
            summary=f"{kit.name} — {b.group_label}",
            location=kit.ecole.name,
            description=_("Booked by %(who)s", who=b.booked_by),
            url=base
            + url_for("loans.kit", kit_id=kit.id, semaine=local(b.starts_at).date().isoformat()),
            sequence=0,
        )
        for b in found
    ]
    response = Response(ics_calendar(events, kit.name), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, no-cache"
    if attachment:
        response.headers["Content-Disposition"] = 'attachment; filename="reservations.ics"'
    return response


@bp.get("/prets/kits/<int:kit_id>/calendrier.ics")
@allow(Action.READ, on=(Kit, "kit_id"))
def calendar(kit_id: int) -> Response:
    kit = kit_service.kit_detail(db.session, current_user, kit_id)
    return calendar_response(kit, attachment=True)
