"""Booking a kit: signed in from its page, or through the school's public link (no
account: the opaque token of the link names the kit; rate limited), and cancelling."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.core.policy import Action
from inventory.extensions import db, limiter
from inventory.loans import bookings as booking_service
from inventory.loans.forms import BookingForm, CancelForm
from inventory.loans.kits import kit_by_token, kit_detail
from inventory.loans.models import Booking, Kit
from inventory.loans.rules import LoanError
from inventory.loans.views.blueprint import bp, week_asked, week_of
from inventory.loans.views.kits import calendar_response, kit_page
from inventory.training.times import local
from inventory.web import allow, attach_error


def _request(form: BookingForm) -> booking_service.BookingRequest:
    return booking_service.BookingRequest(
        day=form.day.data,
        start=form.start.data,
        end=form.end.data,
        group_label=form.group_label.data or "",
        booked_by=form.booked_by.data or "",
        until=form.until.data,
    )


def _book(kit: Kit, form: BookingForm, user: Any) -> list[Booking] | None:
    """The bookings made, or None with the refusal shown on the form."""
    if not form.validate_on_submit():
        return None
    try:
        return booking_service.book(db.session, user, kit, _request(form))
    except LoanError as exc:
        attach_error(form, exc, "start")
        return None


def _booked_message(made: list[Booking]) -> str:
    if len(made) > 1:
        return _("%(n)d weekly bookings recorded.", n=len(made))
    return _("Booking recorded.")


@bp.post("/prets/kits/<int:kit_id>/reserver")
@allow(Action.EDIT, on=(Kit, "kit_id"))
def book(kit_id: int) -> Any:
    kit = kit_detail(db.session, current_user, kit_id, Action.EDIT)
    form = BookingForm()
    made = _book(kit, form, current_user)
    if made is None:
        return kit_page(kit, form, 422)
    flash(_booked_message(made), "success")
    day = local(made[0].starts_at).date().isoformat()
    return redirect(url_for("loans.kit", kit_id=kit.id, semaine=day))


@bp.post("/prets/reservations/<int:booking_id>/annuler")
@allow(Action.EDIT, on=(Booking, "booking_id"))
def cancel(booking_id: int) -> Response:
    booking = booking_service.booking_detail(db.session, current_user, booking_id)
    form = CancelForm()
    kit_id = booking.kit_id
    if form.validate_on_submit():
        n = booking_service.cancel(db.session, current_user, booking, series=bool(form.series.data))
        flash(_("%(n)d booking(s) cancelled.", n=n), "success")
    return redirect(url_for("loans.kit", kit_id=kit_id))


# -- the school's public booking link ---------------------------------------------------------
def _public_page(
    kit: Kit, form: BookingForm, status: int = 200, done: list[Booking] | None = None
) -> Any:
    return (
        render_template(
            "loans/public.html",
            kit=kit,
            week=week_of(db.session, kit, week_asked()),
            form=form,
            done=done,
        ),
        status,
    )


def _public_limit() -> str:
    return str(current_app.config.get("LOANS_PUBLIC_BOOKING_LIMIT") or "30 per hour")


@bp.route("/reserver/<link>", methods=["GET", "POST"])
@allow(None)  # the link's opaque token names the kit; no account
@limiter.limit(_public_limit, methods=["POST"])
def public(link: str) -> Any:
    kit = kit_by_token(db.session, link)
    if kit is None:
        return render_template("loans/public_unknown.html"), 200
    form = BookingForm()
    if form.is_submitted():
        made = _book(kit, form, None)
        if made is None:
            return _public_page(kit, form, 422)
        return _public_page(kit, BookingForm(formdata=None), done=made)
    return _public_page(kit, form)


@bp.get("/reserver/<link>/calendrier.ics")
@allow(None)  # for calendar apps, which carry no session: the link's token names the kit
def public_feed(link: str) -> Response:
    kit = kit_by_token(db.session, link)
    if kit is None:
        return redirect(url_for("loans.public", link=link))
    return calendar_response(kit, attachment=False)
