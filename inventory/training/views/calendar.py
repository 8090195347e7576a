"""The calendar of sessions: the .ics download and the private subscription feed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.core import addresses
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.training.calendar import (
    calendar_sessions,
    calendar_token,
    ics_calendar,
    session_event,
    user_from_calendar_token,
)
from inventory.training.views.blueprint import bp, page_locale
from inventory.web import allow, int_arg


# -- calendar --------------------------------------------------------------------------------
def _calendar_response(user: Any, *, attachment: bool) -> Response:
    ecole, trainer = int_arg("ecole"), int_arg("formateur")
    found = calendar_sessions(db.session, user, ecole=ecole, trainer=trainer)
    base = addresses.base_url() or addresses.request_base() or ""
    host = urlsplit(base).hostname or "socle"
    locale = page_locale()
    events = [
        session_event(ts, host, base + url_for("training.detail", session_id=ts.id), locale)
        for ts in found
    ]
    body = ics_calendar(events, _("Accompaniment sessions — Socle"))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, no-cache"
    if attachment:
        response.headers["Content-Disposition"] = 'attachment; filename="accompagnement.ics"'
    return response


@bp.get("/accompagnement/planning.ics")
@allow(Action.READ)
def planning() -> Response:
    return _calendar_response(current_user, attachment=True)


@bp.get("/accompagnement/agenda/<token>.ics")
@allow(None)  # calendar apps carry no session: the signed token names the account
def feed(token: str) -> Response:
    user = user_from_calendar_token(db.session, current_app.config["SECRET_KEY"], token)
    if user is None:
        return redirect(url_for("auth.login"))
    return _calendar_response(user, attachment=False)


def feed_url(args: dict[str, Any]) -> str | None:
    """The user's private subscription link (accounts only: not the test doubles)."""
    if not hasattr(current_user, "session_token"):
        return None
    token = calendar_token(current_app.config["SECRET_KEY"], current_user)
    base = addresses.base_url() or addresses.request_base() or ""
    return base + url_for("training.feed", token=token, **args)
