"""The public pages of the helpdesk, for people without an account: a label's page (what
the item is and a form to report a problem) and a report's follow-up page.

These pages open no session: a phone's first scan of a label gets no cookie at all. The
report form changes nothing in the name of whoever sends it (it carries no ambient
authority), so it has no CSRF token; what guards it is the trap field for robots and the
rate limits, per address and per label. The language follows the browser's, or the
``lang`` of the page's address, chosen with the page's language switch.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from markupsafe import Markup

from inventory.core import policy, rate_limits
from inventory.core.errors import DomainError
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.extensions import csrf, db
from inventory.helpdesk import photos, public
from inventory.helpdesk.forms import ReportForm
from inventory.helpdesk.models import Ticket
from inventory.helpdesk.rules import new_follow_token
from inventory.labels import tokens
from inventory.web import allow, attach_error, int_arg, language, upload_dir

bp = Blueprint("public", __name__)

# Per address, then per label: generous for a school, tight for a robot.
REPORT_LIMITS = ("5 per minute", "10 per hour")
# Public pages are no one's to index.
PUBLIC_HEADERS = {"X-Robots-Tag": "noindex, nofollow"}
# A fresh report form is the same for every label offered the same problems in the same
# language, and rendering it was two fifths of the page's work: each is rendered once per
# worker and kept under a key holding all it shows (so that it is never out of date), a
# few dozen at most. Nothing else of the page is kept.
FRESH_FORMS_KEPT = 256


@bp.record_once
def _keep_fresh_forms(state: Any) -> None:
    state.app.extensions["helpdesk_fresh_forms"] = {}


def _locale() -> str:
    return language()


def _report_limits() -> tuple[str, str]:
    return current_app.config.get("HELPDESK_REPORT_LIMITS") or REPORT_LIMITS


def _label_key() -> str:
    token = tokens.read_token((request.view_args or {}).get("token", ""))
    return f"report-label:{token or '-'}"


def _public(template: str, status: int = 200, **context: Any) -> tuple[str, int, dict[str, str]]:
    return render_template(template, **context), status, PUBLIC_HEADERS


def _report_form(page: public.PublicPage) -> ReportForm:
    """The report form, with what was sent if anything, offering the page's problems."""
    form = ReportForm()
    locale = _locale()
    form.problem.choices = options((c.id, c.label(locale)) for c in page.choices)
    return form


def _form_html(form: ReportForm, duplicate: Ticket | None = None) -> Markup:
    html = render_template("helpdesk/_report_form.html", form=form, duplicate=duplicate)
    return Markup(html)  # rendered, and escaped, by Jinja


def _fresh_form(page: public.PublicPage, problem: int | None) -> Markup:
    """The report form as nobody filled it yet, ``problem`` chosen if it is offered."""
    kept: dict[tuple[Any, ...], Markup] = current_app.extensions["helpdesk_fresh_forms"]
    key = (_locale(), page.choices, problem)
    html = kept.get(key)
    if html is None:
        form = ReportForm(formdata=None)
        form.problem.choices = options((c.id, c.label(key[0])) for c in page.choices)
        form.problem.data = problem
        html = _form_html(form)
        if len(kept) >= FRESH_FORMS_KEPT:
            kept.clear()
        kept[key] = html
    return html


def _scan_page(
    page: public.PublicPage,
    form_html: Markup,
    *,
    status: int = 200,
    duplicate: Ticket | None = None,
    notice: str | None = None,
    photo_dropped: bool = False,
) -> tuple[str, int, dict[str, str]]:
    return _public(
        "helpdesk/scan.html",
        status,
        page=page,
        form_html=form_html,
        duplicate=duplicate,
        notice=notice,
        photo_dropped=photo_dropped,
        locale=_locale(),
    )


def _label_page(token: str) -> public.PublicPage | tuple[str, int, dict[str, str]]:
    """What a scanned token's page shows, or the answer for a token that shows nothing."""
    page = public.public_page(db.session, token)
    if page is None:
        return _public("helpdesk/scan_unknown.html", 404)
    if page.revoked:
        return _public("helpdesk/scan_replaced.html", 410)
    return page


# Reading the page and sending a report are two views, so that the rate limits (on reports
# only) cost nothing to the page, the most requested one.
@bp.get("/Q/<token>")  # upper case: the compact QR code mode
@bp.get("/q/<token>")  # registered first: the URL links are built to it
@allow(None)
def scan(token: str) -> Any:
    """The URL a label's QR code carries: what the item is and a form to report a problem;
    staff in scope land on the item's own page."""
    page = _label_page(token)
    if not isinstance(page, public.PublicPage):
        return page
    if current_user.is_authenticated:
        target = public.find_target(db.session, token)
        item = target.item if target is not None else None
        if item is not None and policy.can(current_user, Action.READ, item, db.session):
            if target.asset is not None:  # type: ignore[union-attr]
                return redirect(url_for("assets.detail", asset_id=item.id))
            return redirect(url_for("orgs.classroom", classroom_id=item.id))
    wanted = int_arg("probleme")
    offered = wanted if any(c.id == wanted for c in page.choices) else None
    return _scan_page(page, _fresh_form(page, offered))


@bp.post("/Q/<token>")
@bp.post("/q/<token>")
@allow(None)
@csrf.exempt  # no ambient authority: the trap field and the limits guard it
# Tested before the view (a flood is refused before any work), counted by the view before
# the report is saved: only what is reserved counts, and a form with a mistake does not.
@rate_limits.checked(lambda: _report_limits()[0])
@rate_limits.checked(lambda: _report_limits()[1], key_func=_label_key)
def report(token: str) -> Any:
    """A report sent from a label's page."""
    page = _label_page(token)
    if not isinstance(page, public.PublicPage):
        return page
    target = public.find_target(db.session, token)
    if target is None or target.revoked:  # replaced or removed since the read above
        return _public("helpdesk/scan_replaced.html", 410)
    form = _report_form(page)
    if form.website.data:
        # The trap field, invisible to people, was filled: answer as if all went well.
        if rate_limits.reserve("report") is None:
            return _refused(page)
        return _reported(target, new_follow_token(), joined=False, ticket=None)
    if not form.validate_on_submit():
        return _scan_page(page, _form_html(form), status=422)
    place = rate_limits.reserve("report")
    if place is None:
        return _refused(page)
    upload = request.files.get(form.photo.name)
    data = upload.read(photos.MAX_BYTES + 1) if upload is not None and upload.filename else None
    sent = public.Report(
        problem_type_id=form.problem.data,
        description=form.description.data or "",
        name=form.name.data,
        email=form.email.data,
        photo=data or None,
    )
    try:
        outcome = public.report_problem(
            db.session,
            current_app.config,
            target,
            sent,
            photo_dir=upload_dir("tickets"),
            join=form.join.data == "1",
        )
    except public.DuplicateReport as dup:
        place.give_back()
        form.join.data = "1"
        html = _form_html(form, duplicate=dup.ticket)
        return _scan_page(page, html, duplicate=dup.ticket, photo_dropped=bool(data))
    except DomainError as exc:
        db.session.rollback()
        place.give_back()
        attach_error(form, exc, "description")
        return _scan_page(page, _form_html(form), status=422)
    ticket = outcome.ticket
    return _reported(target, ticket.follow_token, joined=outcome.joined, ticket=ticket)


def _reported(target: public.Target, follow_token: str, **context: Any) -> Any:
    url = url_for("public.follow", follow_token=follow_token, _external=True)
    return _public("helpdesk/reported.html", target=target, follow_url=url, **context)


@bp.errorhandler(RateLimitExceeded)
def _too_many(_error: RateLimitExceeded) -> Any:
    """The report form again, with what was typed: nothing the reporter wrote is lost."""
    page = None
    if request.endpoint == "public.report":
        page = public.public_page(db.session, (request.view_args or {}).get("token", ""))
    if page is None or page.revoked:
        return render_template("errors/error.html", code=429, title=_("Too many attempts")), 429
    return _refused(page)


def _refused(page: public.PublicPage) -> Any:
    notice = _(
        "Many reports were sent from here or about this item in a short time. Your text "
        "is kept below: wait a few minutes, then send it again."
    )
    return _scan_page(page, _form_html(_report_form(page)), status=429, notice=notice)


@bp.get("/suivi/<follow_token>")
@allow(None)
def follow(follow_token: str) -> Any:
    """The reporter's follow-up page: status, the staff's public messages, the resolution."""
    ticket = public.follow_ticket(db.session, follow_token)
    if ticket is None:
        return _public("helpdesk/follow_unknown.html", 404)
    return _public(
        "helpdesk/follow.html",
        ticket=ticket,
        messages=[m for m in ticket.messages if not m.internal],
        follow_url=url_for("public.follow", follow_token=follow_token, _external=True),
        locale=_locale(),
    )
