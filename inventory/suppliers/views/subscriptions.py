"""Subscriptions' pages: the list (soonest end first), a new one, one's terms. The finance
staff record them; the service's page shows its terms (panels.py)."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.assets import digital
from inventory.assets.models import DigitalService, ServiceKind
from inventory.assets.socle import paris_today
from inventory.core import policy
from inventory.core.errors import ConflictError
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.orgs.models import Collectivite
from inventory.suppliers import subscriptions
from inventory.suppliers.forms import SubscriptionForm
from inventory.suppliers.models import ServiceSubscription
from inventory.suppliers.rules import SupplierError
from inventory.suppliers.views.blueprint import (
    bp,
    choose_collectivite,
    chosen_collectivite,
    supplier_options,
    version_of,
)
from inventory.web import allow, attach_error, int_arg


@bp.get("/abonnements")
@allow(Action.READ)
def subscriptions_index() -> str:
    page = subscriptions.list_subscriptions(
        db.session,
        current_user,
        page=int_arg("page") or 1,
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "suppliers/subscriptions.html",
        page=page,
        args={},
        today=paris_today(),
        may_finance=policy.allowed(current_user, Action.FINANCE),
    )


def _choices(form: SubscriptionForm, owner_id: int, service: DigitalService | None) -> None:
    covered = [c.ecole_id for c in service.coverage] if service else []
    schools = digital.school_choices(db.session, current_user, owner_id, covered)
    form.schools.choices = options((e.id, f"{e.name} ({e.commune.name})") for e in schools)
    form.supplier.choices = supplier_options(owner_id)
    form.expense.choices = options(
        [(0, _("None")), *subscriptions.expense_choices(db.session, current_user, owner_id)]
    )
    form.classrooms.choices = options(
        subscriptions.classroom_choices(db.session, current_user, covered)
    )


def _save(
    form: SubscriptionForm,
    service: DigitalService | None,
    owner: Collectivite | None,
    version: int | None = None,
) -> ServiceSubscription:
    try:
        kind = ServiceKind(form.kind.data)
    except ValueError:
        raise SupplierError(_("Choose the kind of service."), field="kind") from None
    fields = digital.ServiceFields(
        kind=kind,
        name=form.name.data or "",
        provider=form.provider.data,
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        notes=form.notes.data,
    )
    terms = subscriptions.Terms(
        supplier_id=form.supplier.data or None,
        seats_bought=form.seats_bought.data,
        seats_used=form.seats_used.data,
        cost_per_year_cents=form.cost.data,
        renews=bool(form.renews.data),
        expense_id=form.expense.data or None,
    )
    return subscriptions.save_subscription(
        db.session,
        current_user,
        service,
        fields=fields,
        terms=terms,
        ecole_ids=form.schools.data or [],
        classroom_ids=form.classrooms.data or [],
        collectivite=owner,
        version=version,
    )


@bp.route("/abonnements/nouveau", methods=["GET", "POST"])
@allow(Action.FINANCE)
def new_subscription() -> str | Response | tuple[str, int]:
    owner = chosen_collectivite(Action.FINANCE)
    if owner is None:
        return choose_collectivite("suppliers.new_subscription", _("New subscription"))
    form = SubscriptionForm()
    _choices(form, owner.id, None)
    if request.method == "GET":
        form.kind.data = ServiceKind.ENT.value
    elif form.validate_on_submit():
        try:
            sub = _save(form, None, owner)
        except (SupplierError, digital.ServiceError) as exc:
            db.session.rollback()
            attach_error(form, exc, "name", {"cost": "cost", "expense": "expense"})
        else:
            flash(_("Subscription «%(name)s» recorded.", name=sub.service.name), "success")
            return redirect(url_for("suppliers.subscription", service_id=sub.service_id))
    status = 422 if form.errors else 200
    return render_template(
        "suppliers/subscription_form.html",
        form=form,
        owner=owner,
        service=None,
        subscription=None,
        may_finance=True,
    ), status


def _values(service: DigitalService, sub: ServiceSubscription | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": service.kind.value,
        "name": service.name,
        "provider": service.provider or "",
        "starts_on": service.starts_on,
        "ends_on": service.ends_on,
        "notes": service.notes or "",
        "schools": [c.ecole_id for c in service.coverage],
    }
    if sub is not None:
        values.update(
            supplier=sub.supplier_id or 0,
            seats_bought=sub.seats_bought,
            seats_used=sub.seats_used,
            cost=sub.cost_per_year_cents,
            renews=sub.renews,
            expense=sub.expense_id or 0,
            classrooms=[r.classroom_id for r in sub.classrooms],
        )
    return values


@bp.route("/abonnements/<int:service_id>", methods=["GET", "POST"])
@allow(Action.READ, on=(DigitalService, "service_id"))
def subscription(service_id: int) -> str | Response | tuple[str, int]:
    service = digital.service_detail(db.session, current_user, service_id)
    sub = subscriptions.subscription_of(db.session, current_user, service)
    may_finance = policy.can(current_user, Action.FINANCE, service, db.session)
    form = SubscriptionForm()
    _choices(form, service.collectivite_id, service)
    status, conflict = 200, None
    if request.method == "GET":
        for name, value in _values(service, sub).items():
            form[name].data = value
        form.version.data = str(sub.version if sub else 0)
    elif not may_finance:
        raise policy.Denied()
    elif form.validate_on_submit():
        try:
            _save(form, service, None, version_of(form) if sub else None)
        except ConflictError as exc:
            db.session.rollback()
            conflict, status = exc.message, 409
        except (SupplierError, digital.ServiceError) as exc:
            db.session.rollback()
            attach_error(form, exc, "name", {"cost": "cost", "expense": "expense"})
            status = 422
        else:
            flash(_("Subscription saved."), "success")
            return redirect(url_for("digital.service", service_id=service.id))
    else:
        status = 422
    return render_template(
        "suppliers/subscription_form.html",
        form=form,
        owner=service.collectivite,
        service=service,
        subscription=sub,
        expense=subscriptions.expense_label(db.session, current_user, sub.expense_id)
        if sub
        else None,
        may_finance=may_finance,
        conflict=conflict,
    ), status
