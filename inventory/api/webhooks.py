"""Webhooks: a collectivité's subscriptions (created, edited, disabled, their secret
rotated), the deliveries of its events, and their sending.

An event a service emits (``core.events``) becomes one delivery row per active
subscription that hears it, in the business transaction: it exists if and only if the
change commits. Once the session commits, a job sends the due deliveries; a failure is
retried with a growing delay (1, 2, 4… minutes, at most 6 h) by the job queue's periodic
task, up to ``WEBHOOKS_MAX_ATTEMPTS``; a manager may redeliver any of them.

Each request is a POST of the JSON body with these headers::

    X-Socle-Event: ticket.created
    X-Socle-Delivery: <the delivery's uuid, the same on every attempt>
    X-Socle-Timestamp: <Unix seconds of this attempt>
    X-Socle-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed by the secret>

The receiver recomputes the HMAC, compares it in constant time, and refuses a timestamp
more than a few minutes old (a replayed request)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import SplitResult, urlsplit

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from inventory.api import webhooks_http
from inventory.api.webhooks_models import DeliveryState, WebhookDelivery, WebhookSubscription
from inventory.core import events, jobs, policy
from inventory.core.db import utcnow
from inventory.core.errors import DomainError
from inventory.core.mail import backoff
from inventory.core.policy import Action, Subject
from inventory.extensions import db
from inventory.orgs.models import Collectivite

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-Socle-Signature"
TIMESTAMP_HEADER = "X-Socle-Timestamp"
# A session that wrote deliveries asks, once it commits, for a job to send them.
_WROTE = "webhooks_wrote_deliveries"
# The subscriptions of each collectivité, read once per transaction (a bulk change emits
# many events).
_HEARD = "webhooks_subscriptions"

EVENT_LABELS = {
    events.TICKET_CREATED: _l("Ticket created"),
    events.TICKET_STATUS_CHANGED: _l("Ticket status changed"),
    events.TICKET_RESOLVED: _l("Ticket resolved"),
    events.ASSET_STATUS_CHANGED: _l("Equipment status changed"),
    events.DOSSIER_STATUS_CHANGED: _l("Dossier status changed"),
    events.JOB_FINISHED: _l("Job finished"),
    events.LOAN_ITEM_MISSING: _l("Item missing at a loan's return"),
}


class WebhookError(DomainError):
    pass


# -- signing -------------------------------------------------------------------------------
def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The value of X-Socle-Signature: HMAC-SHA256 over "<timestamp>.<body>"."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    sent: str,
    *,
    now: float | None = None,
    tolerance: float = 300,
) -> bool:
    """What a receiver does (and the tests): the signature matches, and is recent."""
    if not timestamp.isdigit():
        return False
    if abs((now or time.time()) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), sent)


def worked_example() -> dict[str, str]:
    """A delivery's signature worked out, for the documentation (computed here, so that the
    page can never disagree with what is sent)."""
    secret, stamp = "whsec_exemple", 1796638500
    body = body_of(
        "6f1c0e52-3d0b-4c1e-9a57-2b8f4d1e7a90",
        events.Event(events.TICKET_RESOLVED, 12, {"ticket": 345, "resolution": "Écran remplacé."}),
        datetime.fromisoformat("2026-12-07T10:15:00+00:00"),
    )
    return {
        "secret": secret,
        "timestamp": str(stamp),
        "body": body,
        "signature": signature(secret, stamp, body.encode()),
    }


# -- addresses -----------------------------------------------------------------------------
def _allow_private(config: Any) -> bool:
    value = config.get("WEBHOOKS_ALLOW_PRIVATE", False)
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


def _parts(url: str) -> SplitResult:
    """A subscription's address, well formed: http or https, a host, no credentials."""
    if not url:
        raise WebhookError(_l("Give the address that receives the events."), field="url")
    if len(url) > 500:
        raise WebhookError(_l("At most %(n)d characters.", n=500), field="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError:
        raise WebhookError(_l("This address is not valid."), field="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(
            _l("The address must start with http:// or https:// and name a host."), field="url"
        )
    if parts.username or parts.password:
        raise WebhookError(
            _l("Put no user name or password in the address: the signature authenticates."),
            field="url",
        )
    return parts


def _addresses(host: str, port: int) -> tuple[str, ...]:
    """The host's addresses: itself when it is one, else resolved (once)."""
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    try:
        return webhooks_http.resolve(host, port)
    except OSError:
        raise WebhookError(
            _l("The host «%(host)s» is not known.", host=host), field="url"
        ) from None


def _refuse_private(addresses: Iterable[str]) -> None:
    if any(_private(a) for a in addresses):
        raise WebhookError(
            _l("This address is on a private network, which this server does not call."),
            field="url",
        )


def check_url(url: str, config: Any, *, resolve: bool = True) -> str:
    """A subscription's address: http or https, a host, no credentials; a private address
    (loopback, RFC 1918, link-local…) only when WEBHOOKS_ALLOW_PRIVATE is on. With
    ``resolve``, the host's addresses are checked too (a public name may point inside)."""
    url = (url or "").strip()
    parts = _parts(url)
    if _allow_private(config):
        return url
    host = parts.hostname or ""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        _refuse_private(["127.0.0.1"])
    try:
        _refuse_private([str(ipaddress.ip_address(host))])
    except ValueError:
        if resolve:
            _refuse_private(_addresses(host, parts.port or 443))
    return url


def target_of(url: str, config: Any) -> webhooks_http.Target:
    """Where a delivery goes, resolved once: every address the host gives is checked
    (unless WEBHOOKS_ALLOW_PRIVATE), and the sending connects to one of them."""
    parts = _parts(url.strip())
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not _allow_private(config) and (
        host.lower() == "localhost" or host.lower().endswith(".localhost")
    ):
        _refuse_private(["127.0.0.1"])
    addresses = _addresses(host, port)
    if not _allow_private(config):
        _refuse_private(addresses)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return webhooks_http.Target(parts.scheme, host, port, path, addresses)


# -- subscriptions -------------------------------------------------------------------------
@dataclass(frozen=True)
class SubscriptionFields:
    name: str
    url: str
    events: tuple[str, ...]
    active: bool = True


@dataclass(frozen=True)
class NewSecret:
    subscription: WebhookSubscription
    secret: str  # shown once


def _checked(fields: SubscriptionFields, config: Any) -> SubscriptionFields:
    name = (fields.name or "").strip()
    if not name:
        raise WebhookError(_l("Give the subscription a name."), field="name")
    if len(name) > 100:
        raise WebhookError(_l("At most %(n)d characters.", n=100), field="name")
    chosen = tuple(e for e in events.NAMES if e in set(fields.events))
    if not chosen or len(chosen) != len(set(fields.events)):
        raise WebhookError(_l("Choose at least one event."), field="events")
    return SubscriptionFields(name, check_url(fields.url, config), chosen, fields.active)


def managed_collectivite(session: Session, user: Subject, collectivite_id: int) -> Collectivite:
    """A collectivité whose webhooks ``user`` manages (editing its data): else 404."""
    return policy.load_or_404(user, Collectivite, collectivite_id, session, Action.EDIT)


def subscription_of(session: Session, user: Subject, subscription_id: int) -> WebhookSubscription:
    return policy.load_or_404(user, WebhookSubscription, subscription_id, session, Action.EDIT)


def subscriptions_of(session: Session, collectivite: Collectivite) -> list[WebhookSubscription]:
    stmt = (
        select(WebhookSubscription)
        .where(WebhookSubscription.collectivite_id == collectivite.id)
        .order_by(WebhookSubscription.name, WebhookSubscription.id)
    )
    return list(session.scalars(stmt))


def every_subscription(session: Session, user: Subject) -> list[WebhookSubscription]:
    policy.require(user, Action.ADMIN)
    stmt = select(WebhookSubscription).order_by(
        WebhookSubscription.collectivite_id, WebhookSubscription.name
    )
    return list(session.scalars(stmt))


def create_subscription(
    session: Session,
    user: Subject,
    config: Any,
    collectivite: Collectivite,
    fields: SubscriptionFields,
) -> NewSecret:
    """A new subscription of a collectivité the user manages; its secret, shown once."""
    if not policy.can(user, Action.EDIT, collectivite, session):
        raise policy.Denied()
    fields = _checked(fields, config)
    secret = new_secret()
    subscription = WebhookSubscription(
        collectivite_id=collectivite.id,
        name=fields.name,
        url=fields.url,
        events=list(fields.events),
        secret=secret,
        active=fields.active,
    )
    session.add(subscription)
    session.commit()
    return NewSecret(subscription, secret)


def update_subscription(
    session: Session,
    user: Subject,
    config: Any,
    subscription: WebhookSubscription,
    fields: SubscriptionFields,
) -> WebhookSubscription:
    """Change the name, the address, the events, or disable it (its secret is kept)."""
    if not policy.can(user, Action.EDIT, subscription, session):
        raise policy.Denied()
    fields = _checked(fields, config)
    subscription.name = fields.name
    subscription.url = fields.url
    subscription.events = list(fields.events)
    subscription.active = fields.active
    session.commit()
    return subscription


def rotate_secret(session: Session, user: Subject, subscription: WebhookSubscription) -> NewSecret:
    """A new secret for the subscription; the old one signs nothing from now on."""
    if not policy.can(user, Action.EDIT, subscription, session):
        raise policy.Denied()
    secret = new_secret()
    subscription.secret = secret
    subscription.secret_rotated_at = utcnow()
    session.commit()
    return NewSecret(subscription, secret)


# -- events become deliveries --------------------------------------------------------------
def _listening(session: Session, collectivite_id: int) -> list[tuple[int, list[str]]]:
    heard: dict[int, list[tuple[int, list[str]]]] = session.info.setdefault(_HEARD, {})
    if collectivite_id not in heard:
        with session.no_autoflush:
            rows = session.execute(
                select(WebhookSubscription.id, WebhookSubscription.events).where(
                    WebhookSubscription.collectivite_id == collectivite_id,
                    WebhookSubscription.active.is_(True),
                )
            ).all()
        heard[collectivite_id] = [(row[0], list(row[1] or [])) for row in rows]
    return heard[collectivite_id]


def body_of(delivery_uuid: str, happened: events.Event, at: datetime) -> str:
    return json.dumps(
        {
            "id": delivery_uuid,
            "event": happened.name,
            "occurred_at": at.isoformat(),
            "collectivite_id": happened.collectivite_id,
            "data": happened.data,
        },
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )


@events.listen
def record_deliveries(session: Session, happened: events.Event) -> None:
    """One delivery per active subscription of the collectivité that hears the event."""
    if happened.collectivite_id is None:
        return
    now = utcnow()
    for subscription_id, names in _listening(session, happened.collectivite_id):
        if happened.name not in names:
            continue
        key = str(uuid.uuid4())
        session.add(
            WebhookDelivery(
                subscription_id=subscription_id,
                event=happened.name,
                uuid=key,
                body=body_of(key, happened, now),
                state=DeliveryState.PENDING,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
        )
        session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    session.info.pop(_HEARD, None)
    if session.info.pop(_WROTE, False) and has_app_context():
        try:
            jobs.enqueue(send_webhooks)
        except Exception:  # the queue down: the periodic retry sends them later
            log.warning("webhooks: the sending job could not be queued", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_HEARD, None)
    session.info.pop(_WROTE, None)


# -- sending -------------------------------------------------------------------------------
def attempt(session: Session, config: Any, delivery: WebhookDelivery) -> bool:
    """Send one delivery now, signed; record the answer. Whether it was delivered."""
    subscription = delivery.subscription
    max_attempts = int(config.get("WEBHOOKS_MAX_ATTEMPTS", 8))
    now = utcnow()
    stamp = int(time.time())
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Socle-Webhooks/1",
        "X-Socle-Event": delivery.event,
        "X-Socle-Delivery": delivery.uuid,
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: signature(subscription.secret, stamp, body),
    }
    delivery.attempts += 1
    delivery.last_attempt_at = now
    code: int | None = None
    error: str | None = None
    try:
        # Checked again when sending (the name may point elsewhere since it was saved),
        # and sent to the very address checked (webhooks_http).
        target = target_of(subscription.url, config)
        timeout = float(config.get("WEBHOOKS_TIMEOUT", 10))
        code = webhooks_http.post(target, body, headers, timeout)
    except WebhookError as exc:
        error = str(exc.message)
    except (OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    delivery.status_code = code
    if code is not None and 200 <= code < 300:
        delivery.state = DeliveryState.DELIVERED
        delivery.delivered_at = utcnow()
        delivery.last_error = None
        delivery.next_attempt_at = None
    else:
        delivery.last_error = (error or f"HTTP {code}")[:2000]
        if delivery.attempts >= max_attempts:
            delivery.state = DeliveryState.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.state = DeliveryState.PENDING
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        log.warning("webhook %s to %s: %s", delivery.uuid, subscription.url, delivery.last_error)
    session.commit()
    return delivery.state == DeliveryState.DELIVERED


def deliver_due(
    session: Session, config: Any, now: datetime | None = None, limit: int = 200
) -> int:
    """Send the deliveries whose time has come (of active subscriptions); how many were
    delivered. Each is claimed first, so that two workers never send the same one."""
    now = now or utcnow()
    # A worker that died while sending leaves its delivery claimed: due again later.
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.state == DeliveryState.SENDING,
            WebhookDelivery.next_attempt_at < now - timedelta(minutes=10),
        )
        .values(state=DeliveryState.PENDING)
    )
    session.commit()
    due = session.scalars(
        select(WebhookDelivery.id)
        .join(WebhookSubscription)
        .where(
            WebhookDelivery.state == DeliveryState.PENDING,
            WebhookSubscription.active.is_(True),
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
    ).all()
    delivered = 0
    for delivery_id in due:
        claim = session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id, WebhookDelivery.state == DeliveryState.PENDING
            )
            .values(state=DeliveryState.SENDING, next_attempt_at=now)
        )
        session.commit()
        if not claim.rowcount:  # type: ignore[attr-defined]
            continue
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        delivered += attempt(session, config, delivery)
    return delivered


@jobs.task
def send_webhooks() -> None:
    deliver_due(db.session, current_app.config)


@jobs.periodic(minute="*")
def retry_webhooks() -> None:
    """Every minute: the deliveries whose retry time has come."""
    deliver_due(db.session, current_app.config)


# -- the delivery log ----------------------------------------------------------------------
def deliveries_of(
    session: Session, subscription: WebhookSubscription, limit: int = 100
) -> list[WebhookDelivery]:
    stmt = (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def recent_deliveries(
    session: Session, user: Subject, states: Iterable[str] = (), limit: int = 200
) -> list[WebhookDelivery]:
    """Every collectivité's latest deliveries, for administrators."""
    policy.require(user, Action.ADMIN)
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if chosen := list(states):
        stmt = stmt.where(WebhookDelivery.state.in_(chosen))
    return list(session.scalars(stmt))


def redeliver(session: Session, user: Subject, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again now (the same body and id), whatever became of it; its
    attempts count again from zero."""
    delivery = policy.load_or_404(user, WebhookDelivery, delivery_id, session, Action.EDIT)
    if not delivery.subscription.active:
        raise WebhookError(_l("This subscription is disabled: enable it first."))
    if delivery.state == DeliveryState.SENDING:
        raise WebhookError(_l("This delivery is being sent."))
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    session.commit()
    jobs.enqueue(send_webhooks)  # by a worker, as every delivery: never in the web request
    session.refresh(delivery)
    return delivery
