"""Privacy pages: the public notice (linked from every page's footer and the report
form), a person's data for an administrator (search, JSON or CSV export, erasure) and
the printable register of processing."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.core import exporting
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.privacy import people
from inventory.privacy.forms import EraseForm, PersonForm
from inventory.privacy.register import processings
from inventory.web import allow, attach_error

bp = Blueprint("privacy", __name__)


@bp.get("/confidentialite")
@allow(None)
def notice() -> str:
    """What Socle does with personal data, for anyone (a teacher who scanned a label)."""
    return render_template(
        "privacy/notice.html",
        processings=processings(current_app.config),
        months=current_app.config["REPORTER_CONTACT_RETENTION_MONTHS"],
        contact=current_app.config.get("PRIVACY_CONTACT"),
    )


@bp.get("/administration/registre-des-traitements")
@allow(Action.ADMIN)
def register() -> str:
    return render_template(
        "privacy/register.html",
        processings=processings(current_app.config),
        contact=current_app.config.get("PRIVACY_CONTACT"),
    )


@bp.get("/administration/donnees-personnelles")
@allow(Action.ADMIN)
def person() -> str | tuple[str, int]:
    """An address's data across the domains (``?email=``), with its export and erasure."""
    form = PersonForm(request.args)
    data = None
    if request.args.get("email"):
        try:
            data = people.find_person(db.session, current_user, form.email.data)
        except people.PrivacyError as exc:
            attach_error(form, exc, "email")
    erase = EraseForm(data={"email": data.email} if data else None)
    status = 422 if form.errors else 200
    return render_template("privacy/person.html", form=form, data=data, erase=erase), status


@bp.get("/administration/donnees-personnelles/export.<any(json,csv):fmt>")
@allow(Action.ADMIN)
def export_person(fmt: str) -> Response | str | tuple[str, int]:
    """The data of ``?email=`` as a file; without an address, the search page."""
    if not request.args.get("email"):
        return person()
    try:
        data = people.find_person(db.session, current_user, request.args.get("email"))
    except people.PrivacyError:
        return person()
    if fmt == "csv":
        return exporting.download(
            "csv", "donnees-personnelles.csv", people.csv_headers(), people.csv_rows(data)
        )
    body = json.dumps(data.as_json(), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="donnees-personnelles.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/administration/donnees-personnelles/effacer")
@allow(Action.ADMIN)
def erase() -> Response | tuple[str, int]:
    form = EraseForm()
    if form.validate_on_submit():
        try:
            done = people.erase_person(db.session, current_user, form.email.data)
        except people.PrivacyError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
            return redirect(url_for("privacy.person"))
        flash(
            _(
                "Erased: the contact data of %(tickets)s tickets, %(follows)s follows "
                "and %(mails)s mails.",
                tickets=done.tickets,
                follows=done.follows,
                mails=done.mails,
            ),
            "success",
        )
        if done.accounts:
            flash(
                _(
                    "An account has this address (%(names)s): deactivate it on its page.",
                    names=", ".join(done.accounts),
                ),
                "info",
            )
        return redirect(url_for("privacy.person", email=form.email.data))
    lookup = PersonForm(data={"email": form.email.data})
    return render_template("privacy/person.html", form=lookup, data=None, erase=form), 422
