"""Helpdesk pages: the public scan page and report form, the public follow-up page, the
staff queue and tickets, service figures, notification choices and inventory campaigns."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_timedelta, get_locale, ngettext
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.wrappers import Response

from inventory.assets import services as assets
from inventory.changelog.services import history_of
from inventory.core import exporting, policy, uploads
from inventory.core.errors import DomainError
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.core.signing import csrf_token
from inventory.extensions import db, limiter
from inventory.helpdesk import page_cache, photos, services
from inventory.helpdesk.forms import (
    AssignForm,
    CampaignStartForm,
    MessageForm,
    MoveForm,
    ReportForm,
    ResolveForm,
    RoomForm,
    ScanForm,
    StatusForm,
    SubscriptionForm,
    TicketFilterForm,
)
from inventory.helpdesk.models import (
    CampaignStatus,
    InventoryCampaign,
    Ticket,
    TicketPhoto,
    TicketStatus,
)
from inventory.helpdesk.page_cache import PageCache
from inventory.helpdesk.services import TICKET_STATUS_LABELS
from inventory.labels import tokens
from inventory.orgs.models import Ecole
from inventory.web import allow, attach_error, int_arg, send_private, upload_dir

bp = Blueprint("helpdesk", __name__)

# Per address, then per label: generous for a school, tight for a robot.
REPORT_LIMITS = ("5 per minute", "10 per hour")
PUBLIC_HEADERS = {"X-Robots-Tag": "noindex, nofollow"}
# The public page's parts kept per worker, rendered with slots for what differs from one
# label to the next: frames, one per language and list of problems (a few dozen), and the
# item's parts, one per language, kind and list of open problems (under 1 kB each).
ITEM_CACHE_ENTRIES = 4096
FRAME_CACHE_ENTRIES = 256


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"ticket_status_labels": TICKET_STATUS_LABELS}


@bp.app_template_global("helpdesk_open_tickets")
def _open_tickets(asset_id: int | None = None, classroom_id: int | None = None) -> list[Ticket]:
    """Open tickets of an item or a room, for the equipment and classroom pages."""
    if not current_user.is_authenticated:
        return []
    return services.open_tickets_for(
        db.session, current_user, asset_id=asset_id, classroom_id=classroom_id
    )


@bp.app_template_filter("duration")
def _duration(value: Any) -> str:
    if value is None:
        return "—"
    return format_timedelta(value, threshold=1.5, add_direction=False)


# -- helpers -----------------------------------------------------------------------------
def _locale() -> str:
    return str(get_locale())


def _report_limits() -> tuple[str, str]:
    return current_app.config.get("HELPDESK_REPORT_LIMITS") or REPORT_LIMITS


def _token_key() -> str:
    return "report-label:" + tokens.normalize_token((request.view_args or {}).get("token", ""))


def _counted(_response: Response) -> bool:
    """Only sent reports count against the limits; a form with a mistake does not."""
    return bool(g.get("helpdesk_report_counted"))


# -- the public scan page ------------------------------------------------------------------
@bp.record_once
def _install_page_caches(state: Any) -> None:
    entries = state.app.config.get("HELPDESK_ITEM_CACHE_ENTRIES", ITEM_CACHE_ENTRIES)
    state.app.extensions["helpdesk_item_cache"] = PageCache(entries)
    state.app.extensions["helpdesk_frame_cache"] = PageCache(FRAME_CACHE_ENTRIES)


def _page_cache(kind: str) -> PageCache:
    return current_app.extensions[f"helpdesk_{kind}_cache"]  # type: ignore[no-any-return]


def _report_form(page: services.PublicPage) -> ReportForm:
    form = ReportForm()
    locale = _locale()
    form.problem.choices = options((c.id, c.label(locale)) for c in page.choices)
    return form


def _scan_page(
    page: services.PublicPage,
    form: ReportForm,
    *,
    status: int = 200,
    duplicate: Ticket | None = None,
    notice: str | None = None,
    photo_dropped: bool = False,
) -> tuple[str, int, dict[str, str]]:
    html = render_template(
        "helpdesk/scan.html",
        page=page,
        form=form,
        duplicate=duplicate,
        notice=notice,
        photo_dropped=photo_dropped,
        locale=_locale(),
    )
    return html, status, PUBLIC_HEADERS


# What the item's part prints of a page as it is: rendered once with slots in their place.
ITEM_TEXTS = ("asset_tag", "model_name", "classroom", "school", "category_fr", "category_en")
ITEM_SLOTS = {name: page_cache.new_slot(name) for name in ITEM_TEXTS}


def _item_texts(page: services.PublicPage) -> dict[str, str | None]:
    return {name: getattr(page, name) for name in ITEM_TEXTS}


def _item_key(locale: str, page: services.PublicPage, texts: dict[str, str | None]) -> Any:
    # An empty text is printed as the template prints it ("—" for no school): in the key.
    return (locale, page.open_problems, tuple(bool(text) for text in texts.values()))


def _fill_item(html: str, texts: dict[str, str | None]) -> str:
    for name, text in texts.items():
        if text:
            html = html.replace(ITEM_SLOTS[name], escape(text))
    return html


def _item_part(page: services.PublicPage, locale: str) -> str:
    """The item's facts and open problems. Rendered once per language, open problems and
    set of texts present, with slots for the texts, which are filled in here: a label's
    first scan in a worker costs no rendering either."""
    texts = _item_texts(page)

    def render() -> str:
        slotted = dataclasses.replace(
            page, **{name: ITEM_SLOTS[name] if text else text for name, text in texts.items()}
        )
        return render_template("helpdesk/_item.html", page=slotted, locale=locale)

    html = _page_cache("item").get_or_render(_item_key(locale, page, texts), render)
    return _fill_item(html, texts)


def kept_page(
    app: Any, page: services.PublicPage, locale: str, script_root: str, path: str, csrf: str
) -> str | None:
    """The shared page of :func:`_shared_page` from kept parts only, outside any request
    (helpdesk.first_scan); None when a part is not kept yet."""
    frames, items = (app.extensions[f"helpdesk_{kind}_cache"] for kind in ("frame", "item"))
    frame = frames.get(_frame_key(locale, script_root, page))
    texts = _item_texts(page)
    item = items.get(_item_key(locale, page, texts))
    if frame is None or item is None:
        return None
    return page_cache.fill(
        frame,
        title=page.name,
        action=f"{script_root}/q/{page.token}",
        next_path=path,
        item=_fill_item(item, texts),
        csrf=csrf,
    )


def _frame_key(locale: str, script_root: str, page: services.PublicPage) -> Any:
    return (locale, script_root, page.choices)


def _shared_page(page: services.PublicPage) -> tuple[str, int, dict[str, str]]:
    """The page with a fresh form, as every anonymous visitor sees it: its frame, the same
    for every item offered the same problems, and the item's part, both rendered once with
    slots for what differs (helpdesk.page_cache)."""
    locale = _locale()

    def render_frame() -> str:
        return render_template(
            "helpdesk/scan.html",
            form=_report_form(page),
            duplicate=None,
            notice=None,
            locale=locale,
            **page_cache.slots(),
        )

    frame = _page_cache("frame").get_or_render(
        _frame_key(locale, request.script_root, page),
        lambda: page_cache.render_frame(render_frame),
    )
    html = page_cache.fill(
        frame,
        title=page.name,
        action=url_for("helpdesk.scan", token=page.token),
        next_path=request.full_path.rstrip("?"),
        item=_item_part(page, locale),
        csrf=csrf_token(),
    )
    return html, 200, PUBLIC_HEADERS


def _label_page(token: str) -> services.PublicPage | tuple[str, int, dict[str, str]]:
    """What a scanned token's page shows, or the answer for a token that shows nothing."""
    page = services.public_page(db.engine, token)
    if page is None:
        return render_template("helpdesk/scan_unknown.html"), 404, PUBLIC_HEADERS
    if page.revoked:
        return render_template("helpdesk/scan_replaced.html"), 410, PUBLIC_HEADERS
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
    if not isinstance(page, services.PublicPage):
        return page
    if current_user.is_authenticated:
        target = services.find_target(db.session, token)
        item = target.item if target is not None else None
        if item is not None and policy.can(current_user, Action.READ, item, db.session):
            if target.asset is not None:  # type: ignore[union-attr]
                return redirect(url_for("assets.detail", asset_id=item.id))
            return redirect(url_for("orgs.classroom", classroom_id=item.id))
    # A signed-in visitor's page has their menu, a flashed message is someone's own, and a
    # query may preselect a problem: only the plain anonymous page is shared.
    if not request.args and not current_user.is_authenticated and "_flashes" not in session:
        return _shared_page(page)
    form = _report_form(page)
    wanted = int_arg("probleme")
    if wanted and any(c.value == wanted for c in form.problem.choices):
        form.problem.data = wanted
    return _scan_page(page, form)


@bp.post("/Q/<token>")
@bp.post("/q/<token>")
@allow(None)
@limiter.limit(lambda: _report_limits()[0], deduct_when=_counted)
@limiter.limit(lambda: _report_limits()[1], key_func=_token_key, deduct_when=_counted)
def report(token: str) -> Any:
    """A report sent from a label's page."""
    page = _label_page(token)
    if not isinstance(page, services.PublicPage):
        return page
    target = services.find_target(db.session, token)
    if target is None or target.revoked:  # replaced or removed since the read above
        return render_template("helpdesk/scan_replaced.html"), 410, PUBLIC_HEADERS
    return _submit(target, page, _report_form(page))


def _reported(target: services.Target, follow_token: str, **context: Any) -> Any:
    url = url_for("helpdesk.follow", follow_token=follow_token, _external=True)
    html = render_template("helpdesk/reported.html", target=target, follow_url=url, **context)
    return html, 200, PUBLIC_HEADERS


def _submit(target: services.Target, page: services.PublicPage, form: ReportForm) -> Any:
    if form.website.data:
        # The trap field, invisible to people, was filled: answer as if all went well.
        g.helpdesk_report_counted = True
        return _reported(target, services.new_follow_token(), joined=False, ticket=None)
    if not form.validate_on_submit():
        return _scan_page(page, form, status=422)
    upload = request.files.get(form.photo.name)
    data = upload.read(photos.MAX_BYTES + 1) if upload is not None and upload.filename else None
    report = services.Report(
        problem_type_id=form.problem.data,
        description=form.description.data or "",
        name=form.name.data,
        email=form.email.data,
        photo=data or None,
    )
    try:
        outcome = services.report_problem(
            db.session,
            current_app.config,
            target,
            report,
            photo_dir=upload_dir("tickets"),
            join=form.join.data == "1",
        )
    except services.DuplicateReport as dup:
        form.join.data = "1"
        return _scan_page(page, form, duplicate=dup.ticket, photo_dropped=bool(data))
    except DomainError as exc:
        db.session.rollback()
        attach_error(form, exc, "description")
        return _scan_page(page, form, status=422)
    g.helpdesk_report_counted = True
    ticket = outcome.ticket
    return _reported(target, ticket.follow_token, joined=outcome.joined, ticket=ticket)


def _refused_report(status: int, notice: str) -> Any:
    """The report form again, with what was typed, when a limit or an expired form
    refused it: nothing the reporter wrote is lost."""
    if request.endpoint == "helpdesk.report":
        page = services.public_page(db.engine, (request.view_args or {}).get("token", ""))
        if page is not None and not page.revoked:
            return _scan_page(page, _report_form(page), status=status, notice=notice)
    return None


@bp.errorhandler(RateLimitExceeded)
def _too_many(_error: RateLimitExceeded) -> Any:
    page = _refused_report(
        429,
        _(
            "Many reports were sent from here or about this item in a short time. Your text "
            "is kept below: wait a few minutes, then send it again."
        ),
    )
    if page is not None:
        return page
    return render_template("errors/error.html", code=429, title=_("Too many attempts")), 429


@bp.errorhandler(CSRFError)
def _expired(_error: CSRFError) -> Any:
    page = _refused_report(400, _("The form expired. Your text is kept below: send it again."))
    if page is not None:
        return page
    return render_template("errors/error.html", code=400, title=_("Bad request")), 400


@bp.get("/suivi/<follow_token>")
@allow(None)
def follow(follow_token: str) -> Any:
    """The reporter's follow-up page: status, the staff's public messages, the resolution."""
    ticket = services.follow_ticket(db.session, follow_token)
    if ticket is None:
        return render_template("helpdesk/follow_unknown.html"), 404, PUBLIC_HEADERS
    html = render_template(
        "helpdesk/follow.html",
        ticket=ticket,
        messages=[m for m in ticket.messages if not m.internal],
        follow_url=url_for("helpdesk.follow", follow_token=follow_token, _external=True),
        locale=_locale(),
    )
    return html, 200, PUBLIC_HEADERS


# -- staff: the queue ----------------------------------------------------------------------
def _queue_filters() -> tuple[services.TicketFilters, TicketFilterForm]:
    args = request.args
    status = args.get("status", "open")
    if status not in ("open", "all") and status not in TicketStatus._value2member_map_:
        status = "open"
    older = int_arg("older_than")
    filters = services.TicketFilters(
        status=status,
        ecole=int_arg("ecole"),
        problem_type=int_arg("problem_type"),
        older_than=older if older in services.AGE_CHOICES else None,
        assignee=args.get("assignee", "")[:12],
        asset=int_arg("asset"),
        classroom=int_arg("classroom"),
    )
    form = TicketFilterForm(args)
    choices = services.queue_choices(db.session, current_user)
    locale = _locale()
    form.status.choices = options(
        [("open", _("Open")), ("all", _("All"))]
        + [(s.value, label) for s, label in TICKET_STATUS_LABELS.items()]
    )
    form.ecole.choices = options([(0, _("All schools")), *choices.schools])
    form.problem_type.choices = options(
        [(0, _("All problems"))] + [(t.id, t.label(locale)) for t in choices.problem_types]
    )
    form.older_than.choices = options(
        [(0, _("Any time"))]
        + [
            (n, ngettext("At least %(num)d day ago", "At least %(num)d days ago", n))
            for n in services.AGE_CHOICES
        ]
    )
    form.assignee.choices = options(
        [("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody"))]
        + [(str(i), name) for i, name in choices.assignees]
    )
    form.status.data = status
    return filters, form


def _filter_args(filters: services.TicketFilters) -> dict[str, Any]:
    args = {
        "status": filters.status,
        "ecole": filters.ecole,
        "problem_type": filters.problem_type,
        "older_than": filters.older_than,
        "assignee": filters.assignee,
        "asset": filters.asset,
        "classroom": filters.classroom,
    }
    return {k: v for k, v in args.items() if v}


@bp.get("/tickets")
@allow(Action.READ)
def queue() -> str:
    filters, form = _queue_filters()
    page = services.ticket_queue(
        db.session,
        current_user,
        filters,
        int_arg("page") or 1,
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "helpdesk/queue.html",
        page=page,
        form=form,
        args=_filter_args(filters),
        names=services.user_names(db.session, [t.assignee_id for t in page.items]),
        counts=services.open_counts_by_school(db.session, current_user),
        locale=_locale(),
    )


@bp.get("/tickets/chiffres")
@allow(Action.READ)
def figures() -> str:
    collectivite = int_arg("collectivite")
    return render_template(
        "helpdesk/figures.html",
        figures=services.service_figures(db.session, current_user),
        models=services.failing_models(db.session, current_user, collectivite=collectivite),
        collectivite=collectivite,
        locale=_locale(),
    )


@bp.route("/tickets/notifications", methods=["GET", "POST"])
@allow(Action.EDIT)
def notifications() -> Any:
    form = SubscriptionForm()
    if request.method == "GET":
        form.mode.data = services.subscription_mode(db.session, current_user)
    elif form.validate_on_submit():
        try:
            services.set_subscription(db.session, current_user, form.mode.data or "")
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc, "mode")
        else:
            flash(_("Your choice is saved."), "success")
            return redirect(url_for("helpdesk.notifications"))
    status = 422 if form.errors else 200
    return render_template("helpdesk/notifications.html", form=form), status


# -- staff: one ticket ---------------------------------------------------------------------
def _ticket_page(
    ticket_id: int,
    *,
    forms: dict[str, FlaskForm] | None = None,
    status: int = 200,
    alert: str | None = None,
) -> tuple[str, int]:
    ticket = services.ticket_detail(db.session, current_user, ticket_id)
    may_edit = policy.can(current_user, Action.EDIT, ticket, db.session)
    forms = forms or {}
    assign_form = forms.get("assign") or AssignForm(formdata=None)
    status_form = forms.get("status") or StatusForm(formdata=None)
    resolve_form = forms.get("resolve") or ResolveForm(formdata=None)
    message_form = forms.get("message") or MessageForm(formdata=None)
    staff = services.assignable_users(db.session, ticket) if may_edit else []
    assign_form.assignee.choices = options([(0, _("Nobody"))] + [(u.id, u.name) for u in staff])
    if "assign" not in forms:
        assign_form.assignee.data = ticket.assignee_id or 0
    nexts = [s for s in services.next_statuses(ticket) if s is not TicketStatus.RESOLVED]
    status_form.status.choices = options((s.value, TICKET_STATUS_LABELS[s]) for s in nexts)
    for form in (assign_form, status_form, resolve_form, message_form):
        form.version.data = str(ticket.version)
    today = date.today()
    asset = ticket.asset
    under_warranty = bool(
        asset is not None and asset.warranty_end is not None and asset.warranty_end >= today
    )
    html = render_template(
        "helpdesk/ticket.html",
        ticket=ticket,
        may_edit=may_edit,
        assign_form=assign_form,
        status_form=status_form,
        resolve_form=resolve_form,
        message_form=message_form,
        can_resolve=TicketStatus.RESOLVED in services.next_statuses(ticket),
        assignee=services.user_names(db.session, [ticket.assignee_id]).get(ticket.assignee_id or 0),
        under_warranty=under_warranty,
        history=history_of(db.session, current_user, ticket),
        alert=alert,
        locale=_locale(),
    )
    return html, status


@bp.get("/tickets/<int:ticket_id>")
@allow(Action.READ, on=(Ticket, "ticket_id"))
def ticket(ticket_id: int) -> Any:
    return _ticket_page(ticket_id)


def _work(ticket_id: int, key: str, form: FlaskForm, fallback: str, action: Any, done: str) -> Any:
    """Run one staff action on a ticket: on success back to the ticket; on a conflict the
    page again (409) with the typed text and the ticket as it is now."""
    ticket = policy.load_or_404(current_user, Ticket, ticket_id, db.session, Action.EDIT)
    if not form.validate_on_submit():
        return _ticket_page(ticket_id, forms={key: form}, status=422)
    try:
        action(ticket)
    except services.TicketConflict as exc:
        db.session.rollback()
        return _ticket_page(ticket_id, forms={key: form}, status=409, alert=str(exc.message))
    except DomainError as exc:
        db.session.rollback()
        attach_error(form, exc, fallback)
        return _ticket_page(ticket_id, forms={key: form}, status=422)
    flash(done, "success")
    return redirect(url_for("helpdesk.ticket", ticket_id=ticket_id))


@bp.post("/tickets/<int:ticket_id>/assigner")
@allow(Action.EDIT, on=(Ticket, "ticket_id"))
def assign(ticket_id: int) -> Any:
    form = AssignForm()
    return _work(
        ticket_id,
        "assign",
        form,
        "assignee",
        lambda t: services.assign(
            db.session, current_user, t, form.assignee.data or None, version=form.version_number()
        ),
        _("Assignment saved."),
    )


@bp.post("/tickets/<int:ticket_id>/statut")
@allow(Action.EDIT, on=(Ticket, "ticket_id"))
def change_status(ticket_id: int) -> Any:
    form = StatusForm()
    wanted = form.status.data or ""

    def act(t: Ticket) -> None:
        if wanted not in TicketStatus._value2member_map_:
            raise services.HelpdeskError(_("Choose a status."), field="status")
        services.change_status(
            db.session,
            current_app.config,
            current_user,
            t,
            TicketStatus(wanted),
            version=form.version_number(),
            note=form.note.data,
        )

    return _work(ticket_id, "status", form, "status", act, _("Status changed."))


@bp.post("/tickets/<int:ticket_id>/resoudre")
@allow(Action.EDIT, on=(Ticket, "ticket_id"))
def resolve(ticket_id: int) -> Any:
    form = ResolveForm()
    return _work(
        ticket_id,
        "resolve",
        form,
        "resolution",
        lambda t: services.change_status(
            db.session,
            current_app.config,
            current_user,
            t,
            TicketStatus.RESOLVED,
            version=form.version_number(),
            resolution=form.resolution.data,
        ),
        _("Ticket resolved."),
    )


@bp.post("/tickets/<int:ticket_id>/messages")
@allow(Action.EDIT, on=(Ticket, "ticket_id"))
def message(ticket_id: int) -> Any:
    form = MessageForm()
    return _work(
        ticket_id,
        "message",
        form,
        "body",
        lambda t: services.add_message(
            db.session,
            current_app.config,
            current_user,
            t,
            form.body.data or "",
            internal=form.visibility.data != "public",
            version=form.version_number(),
        ),
        _("Message saved."),
    )


@bp.get("/tickets/photos/<int:photo_id>")
@allow(Action.READ, on=(TicketPhoto, "photo_id"))
def photo(photo_id: int) -> Response:
    item = policy.load_or_404(current_user, TicketPhoto, photo_id, db.session)
    path = uploads.path_of(upload_dir("tickets"), item.stored_name)
    return send_private(path, "image/jpeg", path.name if path else "")


# -- inventory campaigns -------------------------------------------------------------------
@bp.get("/inventaires")
@allow(Action.READ)
def campaigns() -> str:
    return render_template(
        "helpdesk/campaigns.html",
        campaigns=services.campaigns(db.session, current_user),
        may_edit=policy.allowed(current_user, Action.EDIT),
    )


@bp.route("/inventaires/nouveau", methods=["GET", "POST"])
@allow(Action.EDIT)
def new_campaign() -> Any:
    form = CampaignStartForm()
    q = request.args.get("q", "")[:100]
    preset = int_arg("ecole")
    choices = assets.place_choices(db.session, current_user, q=q, include=preset)
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
                campaign = services.start_campaign(db.session, current_user, ecole)
            except DomainError as exc:
                db.session.rollback()
                attach_error(form, exc, "ecole")
            else:
                return redirect(url_for("helpdesk.campaign", campaign_id=campaign.id))
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
    results = services.campaign_results(db.session, current_user, item)
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
    return redirect(url_for("helpdesk.campaign", campaign_id=campaign_id, salle=room_id or None))


@bp.post("/inventaires/<int:campaign_id>/salle")
@allow(Action.EDIT, on=(InventoryCampaign, "campaign_id"))
def visit_room(campaign_id: int) -> Response:
    item = _campaign(campaign_id, Action.EDIT)
    form = RoomForm()
    form.classroom.choices = []
    if not form.validate_on_submit():
        return _back_to_room(campaign_id, None)
    try:
        room = services.visit_room(db.session, current_user, item, form.classroom.data)
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
        outcome = services.record_scan(
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
def campaign_results(campaign_id: int) -> str:
    item = _campaign(campaign_id)
    results = services.campaign_results(db.session, current_user, item)
    return render_template(
        "helpdesk/campaign_results.html",
        campaign=item,
        results=results,
        movable={s.id for s in results.misplaced if services.movable(s, item)},
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
            asset = services.move_here(
                db.session, current_user, item, int(value) if value.isdigit() else None
            )
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            place = asset.classroom.name if asset.classroom else ""
            flash(_("%(tag)s is now recorded in %(room)s.", tag=asset.tag, room=place), "success")
    return redirect(url_for("helpdesk.campaign_results", campaign_id=campaign_id))


@bp.post("/inventaires/<int:campaign_id>/cloturer")
@allow(Action.EDIT, on=(InventoryCampaign, "campaign_id"))
def close_campaign(campaign_id: int) -> Response:
    item = _campaign(campaign_id, Action.EDIT)
    if FlaskForm().validate_on_submit():
        services.close_campaign(db.session, current_user, item)
        flash(_("The campaign is closed."), "success")
    return redirect(url_for("helpdesk.campaign_results", campaign_id=campaign_id))


@bp.get("/inventaires/<int:campaign_id>/rapport.csv")
@allow(Action.EXPORT, on=(InventoryCampaign, "campaign_id"))
def campaign_report(campaign_id: int) -> Response:
    item = _campaign(campaign_id, Action.EXPORT)
    results = services.campaign_results(db.session, current_user, item)
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
    rows = list(services.report_rows(results, labels))
    name = f"inventaire-{item.ecole.uai}-{item.id}.csv"
    return exporting.download(exporting.CSV, name, headers, rows)
