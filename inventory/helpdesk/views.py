"""The staff's helpdesk pages: the queue of tickets, one ticket and the work on it (assign,
status, resolution, messages, photos), the service figures and each one's notification
choice. The public pages are in helpdesk.public_views, the inventory campaigns in
helpdesk.campaign_views."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from inventory.changelog.services import history_of
from inventory.core import policy, saved_filters, sorting, uploads
from inventory.core.errors import ConflictError, DomainError
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.core.storage import send_private
from inventory.extensions import db
from inventory.helpdesk import repairs, tickets
from inventory.helpdesk.figures import failing_models, service_figures
from inventory.helpdesk.forms import (
    AssignForm,
    MessageForm,
    RepairForm,
    ResolveForm,
    StatusForm,
    SubscriptionForm,
    TicketFilterForm,
)
from inventory.helpdesk.models import Ticket, TicketPhoto, TicketStatus
from inventory.helpdesk.notify import set_subscription, subscription_mode
from inventory.helpdesk.queue import (
    AGE_CHOICES,
    TICKET_SORT,
    TicketFilters,
    open_counts_by_school,
    open_tickets_for,
    queue_choices,
    ticket_queue,
    user_names,
)
from inventory.helpdesk.rules import TICKET_STATUS_LABELS, HelpdeskError
from inventory.suppliers import directory, maintenance
from inventory.suppliers.forms import MaintenanceForm
from inventory.suppliers.rules import SupplierError
from inventory.web import allow, attach_error, int_arg, language, share_labels, upload_dir

bp = Blueprint("helpdesk", __name__)


share_labels(bp, ticket_status_labels=TICKET_STATUS_LABELS)


@bp.app_template_global("helpdesk_open_tickets")
def _open_tickets(asset_id: int | None = None, classroom_id: int | None = None) -> list[Ticket]:
    """Open tickets of an item or a room, for the equipment and classroom pages."""
    if not current_user.is_authenticated:
        return []
    return open_tickets_for(db.session, current_user, asset_id=asset_id, classroom_id=classroom_id)


def _locale() -> str:
    return language()


@bp.app_template_filter("duration")
def _duration(value: Any) -> str:
    if value is None:
        return "—"
    return format_timedelta(value, threshold=1.5, add_direction=False)


# -- staff: the queue ----------------------------------------------------------------------
def _queue_filters() -> tuple[TicketFilters, TicketFilterForm]:
    args = request.args
    status = args.get("status", "open")
    if status not in ("open", "all") and status not in TicketStatus._value2member_map_:
        status = "open"
    older = int_arg("older_than")
    filters = TicketFilters(
        status=status,
        ecole=int_arg("ecole"),
        problem_type=int_arg("problem_type"),
        older_than=older if older in AGE_CHOICES else None,
        assignee=args.get("assignee", "")[:12],
        asset=int_arg("asset"),
        classroom=int_arg("classroom"),
    )
    form = TicketFilterForm(args)
    choices = queue_choices(db.session, current_user)
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
            for n in AGE_CHOICES
        ]
    )
    form.assignee.choices = options(
        [("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody"))]
        + [(str(i), name) for i, name in choices.assignees]
    )
    form.status.data = status
    return filters, form


def _filter_args(filters: TicketFilters) -> dict[str, Any]:
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
    sort = TICKET_SORT.read(request.args.get("sort"))
    page = ticket_queue(
        db.session,
        current_user,
        filters,
        int_arg("page") or 1,
        current_app.config["PAGE_SIZE"],
        sort,
    )
    args = _filter_args(filters)
    if sort is not None:
        args["sort"] = sort.arg
    return render_template(
        "helpdesk/queue.html",
        page=page,
        form=form,
        args=args,
        headers=sorting.headers(TICKET_SORT, sort),
        saved=saved_filters.filters_of(db.session, current_user, "tickets"),
        names=user_names(db.session, [t.assignee_id for t in page.items]),
        counts=open_counts_by_school(db.session, current_user),
        locale=_locale(),
    )


@bp.get("/tickets/chiffres")
@allow(Action.READ)
def figures() -> str:
    collectivite = int_arg("collectivite")
    return render_template(
        "helpdesk/figures.html",
        figures=service_figures(db.session, current_user),
        models=failing_models(db.session, current_user, collectivite=collectivite),
        collectivite=collectivite,
        locale=_locale(),
    )


@bp.route("/tickets/notifications", methods=["GET", "POST"])
@allow(Action.EDIT)
def notifications() -> Any:
    form = SubscriptionForm()
    if request.method == "GET":
        form.mode.data = subscription_mode(db.session, current_user)
    elif form.validate_on_submit():
        try:
            set_subscription(db.session, current_user, form.mode.data or "")
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
    ticket = tickets.ticket_detail(db.session, current_user, ticket_id)
    may_edit = policy.can(current_user, Action.EDIT, ticket, db.session)
    forms = forms or {}
    assign_form = forms.get("assign") or AssignForm(formdata=None)
    status_form = forms.get("status") or StatusForm(formdata=None)
    resolve_form = forms.get("resolve") or ResolveForm(formdata=None)
    message_form = forms.get("message") or MessageForm(formdata=None)
    repair_form = forms.get("repair") or RepairForm(formdata=None)
    staff = tickets.assignable_users(db.session, ticket) if may_edit else []
    assign_form.assignee.choices = options([(0, _("Nobody"))] + [(u.id, u.name) for u in staff])
    if "assign" not in forms:
        assign_form.assignee.data = ticket.assignee_id or 0
    nexts = [s for s in tickets.next_statuses(ticket) if s is not TicketStatus.RESOLVED]
    status_form.status.choices = options((s.value, TICKET_STATUS_LABELS[s]) for s in nexts)
    for form in (assign_form, status_form, resolve_form, message_form, repair_form):
        form.version.data = str(ticket.version)
    if ticket.asset is not None:
        repair_form.asset_version.data = str(ticket.asset.version)
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
        repair_form=repair_form,
        may_repair=may_edit and repairs.may_repair(db.session, current_user, ticket),
        may_return=may_edit and repairs.may_return_to_service(db.session, current_user, ticket),
        can_resolve=TicketStatus.RESOLVED in tickets.next_statuses(ticket),
        assignee=user_names(db.session, [ticket.assignee_id]).get(ticket.assignee_id or 0),
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
    """Run one staff action on a ticket: on success back to the ticket; on a conflict (the
    ticket, or the item its status moves, saved by someone else meanwhile) the page again
    (409) with the typed text and the ticket as it is now."""
    ticket = policy.load_or_404(current_user, Ticket, ticket_id, db.session, Action.EDIT)
    if not form.validate_on_submit():
        return _ticket_page(ticket_id, forms={key: form}, status=422)
    try:
        action(ticket)
    except ConflictError as exc:
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
        lambda t: tickets.assign(
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
            raise HelpdeskError(_("Choose a status."), field="status")
        tickets.change_status(
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
        lambda t: tickets.change_status(
            db.session,
            current_app.config,
            current_user,
            t,
            TicketStatus.RESOLVED,
            version=form.version_number(),
            resolution=form.resolution.data,
            back_in_service=bool(form.back_in_service.data),
        ),
        _("Ticket resolved."),
    )


@bp.post("/tickets/<int:ticket_id>/mettre-en-reparation")
@allow(Action.EDIT, on=(Ticket, "ticket_id"))
def repair(ticket_id: int) -> Any:
    """Put the ticket's item under repair (the item's own status, through its lifecycle)."""
    form = RepairForm()
    return _work(
        ticket_id,
        "repair",
        form,
        "repair_note",
        lambda t: repairs.put_under_repair(
            db.session,
            current_app.config,
            current_user,
            t,
            version=form.version_number(),
            asset_version=form.asset_version_number(),
            note=form.repair_note.data,
        ),
        _("The item is now under repair."),
    )


@bp.route("/tickets/<int:ticket_id>/maintenance", methods=["GET", "POST"])
@allow(Action.EDIT, on=(Ticket, "ticket_id"))
def record_maintenance(ticket_id: int) -> Any:
    """Record the repair a ticket led to, on its item (the suppliers' maintenance)."""
    ticket = policy.load_or_404(current_user, Ticket, ticket_id, db.session, Action.EDIT)
    if ticket.asset is None:
        flash(_("This ticket is about a room: there is no item to record maintenance of."), "error")
        return redirect(url_for("helpdesk.ticket", ticket_id=ticket.id))
    asset = ticket.asset
    form = MaintenanceForm()
    form.prepare(
        asset, directory.suppliers_of(db.session, current_user, asset.collectivite_id), date.today()
    )
    if not form.is_submitted():
        form.description.data = ticket.description[:300]
    if form.validate_on_submit():
        try:
            maintenance.record_maintenance(
                db.session, current_user, asset, form.work_fields(), ticket_id=ticket.id
            )
        except SupplierError as exc:
            db.session.rollback()
            attach_error(form, exc, "description", {"duration": "duration"})
        else:
            flash(_("Maintenance recorded."), "success")
            return redirect(url_for("helpdesk.ticket", ticket_id=ticket.id))
    status = 422 if form.errors else 200
    return render_template(
        "suppliers/maintenance_form.html",
        form=form,
        asset=asset,
        ticket_id=ticket.id,
        action_url=url_for("helpdesk.record_maintenance", ticket_id=ticket.id),
    ), status


@bp.post("/tickets/<int:ticket_id>/messages")
@allow(Action.EDIT, on=(Ticket, "ticket_id"))
def message(ticket_id: int) -> Any:
    form = MessageForm()
    return _work(
        ticket_id,
        "message",
        form,
        "body",
        lambda t: tickets.add_message(
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
    key = uploads.stored_key(item.stored_name)
    return send_private(upload_dir("tickets"), key, "image/jpeg", key or "")
