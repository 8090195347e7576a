"""The webhook pages: a collectivité's subscriptions (for whoever edits its data: create,
edit, disable, rotate the secret), each one's delivery log with "redeliver", and every
collectivité's for administrators."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.api import webhooks
from inventory.api.webhooks_forms import SubscriptionForm
from inventory.api.webhooks_models import DeliveryState, WebhookDelivery, WebhookSubscription
from inventory.changelog.services import history_of
from inventory.core.errors import DomainError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.orgs.models import Collectivite
from inventory.web import allow, attach_error

bp = Blueprint("webhooks", __name__)

STATE_LABELS = {
    DeliveryState.PENDING: _l("to send"),
    DeliveryState.SENDING: _l("sending"),
    DeliveryState.DELIVERED: _l("delivered"),
    DeliveryState.FAILED: _l("failed"),
}


def _fields(form: SubscriptionForm) -> webhooks.SubscriptionFields:
    return webhooks.SubscriptionFields(
        name=form.name.data or "",
        url=form.url.data or "",
        events=tuple(form.events.data or ()),
        active=bool(form.active.data),
    )


def _list_page(
    collectivite: Collectivite, form: SubscriptionForm, secret: str | None = None
) -> str:
    return render_template(
        "api/webhooks.html",
        collectivite=collectivite,
        subscriptions=webhooks.subscriptions_of(db.session, collectivite),
        form=form,
        secret=secret,
        labels=webhooks.EVENT_LABELS,
    )


@bp.get("/collectivites/<int:collectivite_id>/webhooks")
@allow(Action.EDIT, on=(Collectivite, "collectivite_id"))
def subscriptions(collectivite_id: int) -> str:
    collectivite = webhooks.managed_collectivite(db.session, current_user, collectivite_id)
    return _list_page(collectivite, SubscriptionForm())


@bp.post("/collectivites/<int:collectivite_id>/webhooks")
@allow(Action.EDIT, on=(Collectivite, "collectivite_id"))
def create(collectivite_id: int) -> str | tuple[str, int]:
    collectivite = webhooks.managed_collectivite(db.session, current_user, collectivite_id)
    form = SubscriptionForm()
    if form.validate_on_submit():
        try:
            new = webhooks.create_subscription(
                db.session, current_user, current_app.config, collectivite, _fields(form)
            )
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc, "name")
        else:
            # Shown on this answer only (never in the session, never again).
            return _list_page(collectivite, SubscriptionForm(formdata=None), new.secret)
    return _list_page(collectivite, form), 422


def _detail_page(
    subscription: WebhookSubscription, form: SubscriptionForm, secret: str | None = None
) -> str:
    return render_template(
        "api/webhook.html",
        subscription=subscription,
        form=form,
        secret=secret,
        deliveries=webhooks.deliveries_of(db.session, subscription),
        history=history_of(db.session, current_user, subscription),
        labels=webhooks.EVENT_LABELS,
        states=STATE_LABELS,
    )


@bp.get("/webhooks/<int:subscription_id>")
@allow(Action.EDIT, on=(WebhookSubscription, "subscription_id"))
def detail(subscription_id: int) -> str:
    subscription = webhooks.subscription_of(db.session, current_user, subscription_id)
    return _detail_page(subscription, SubscriptionForm(obj=subscription))


@bp.post("/webhooks/<int:subscription_id>")
@allow(Action.EDIT, on=(WebhookSubscription, "subscription_id"))
def update(subscription_id: int) -> Response | tuple[str, int]:
    subscription = webhooks.subscription_of(db.session, current_user, subscription_id)
    form = SubscriptionForm()
    if form.validate_on_submit():
        try:
            webhooks.update_subscription(
                db.session, current_user, current_app.config, subscription, _fields(form)
            )
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc, "name")
        else:
            flash(_("Subscription «%(name)s» saved.", name=subscription.name), "success")
            return redirect(url_for("webhooks.detail", subscription_id=subscription.id))
    return _detail_page(subscription, form), 422


@bp.post("/webhooks/<int:subscription_id>/secret")
@allow(Action.EDIT, on=(WebhookSubscription, "subscription_id"))
def rotate(subscription_id: int) -> str:
    subscription = webhooks.subscription_of(db.session, current_user, subscription_id)
    new = webhooks.rotate_secret(db.session, current_user, subscription)
    return _detail_page(subscription, SubscriptionForm(obj=subscription), new.secret)


@bp.post("/webhooks/livraisons/<int:delivery_id>/renvoyer")
@allow(Action.EDIT, on=(WebhookDelivery, "delivery_id"))
def redeliver(delivery_id: int) -> Response:
    try:
        delivery = webhooks.redeliver(db.session, current_user, delivery_id)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        found = db.session.get(WebhookDelivery, delivery_id)
        assert found is not None  # redeliver loaded it through the policy
        delivery = found
    else:
        flash(_("Delivery sent again: see its state below."), "success")
    if request.form.get("from") == "admin":
        return redirect(url_for("webhooks.everyone"))
    return redirect(url_for("webhooks.detail", subscription_id=delivery.subscription_id))


@bp.get("/admin/webhooks")
@allow(Action.ADMIN)
def everyone() -> str:
    state = request.args.get("state", "")
    chosen = [state] if state in STATE_LABELS else []
    return render_template(
        "api/all_webhooks.html",
        subscriptions=webhooks.every_subscription(db.session, current_user),
        deliveries=webhooks.recent_deliveries(db.session, current_user, chosen),
        labels=webhooks.EVENT_LABELS,
        states=STATE_LABELS,
        state=state,
    )
