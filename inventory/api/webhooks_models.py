"""Webhook subscriptions of a collectivité, and the deliveries of their events."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.core import policy
from inventory.core.audit import Audited
from inventory.core.db import Base, UTCDateTime, utcnow
from inventory.orgs.access import collectivite_rule
from inventory.orgs.models import Collectivite


class WebhookSubscription(Audited, Base):
    """An address of a collectivité's own tool (its GLPI, its MDM) that hears of some of
    its events, each signed with the subscription's secret.

    The secret is kept as it was made, not hashed: Socle must sign every delivery with it,
    so a hash would be useless, and the receiver checks the signature with the same value
    (as NetBox keeps its webhooks' secrets). It is shown once, at creation and at each
    rotation, never in the change log nor on a page after that; a leak is answered by a
    rotation. Encrypting it with a key held by the same server would only move the secret."""

    __tablename__ = "webhook_subscriptions"
    __audit_exclude__ = frozenset({"search_text", "secret"})
    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    # The event names it hears (core.events.NAMES).
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    collectivite: Mapped[Collectivite] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return None, self.collectivite_id


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # to send at next_attempt_at
    SENDING = "sending"  # a worker holds it
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # given up after WEBHOOKS_MAX_ATTEMPTS


class WebhookDelivery(Base):
    """One event for one subscription: written in the transaction of the business change,
    sent after it commits, retried with a growing delay. Its body is kept as sent, so that a
    redelivery carries the same bytes (and the same id, for the receiver to deduplicate)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(40))
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    subscription: Mapped[WebhookSubscription] = relationship()

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


def _subscriptions_rule(scope: policy.Scope) -> Any:
    return WebhookSubscription.collectivite_id.in_(
        select(Collectivite.id).where(collectivite_rule(scope))
    )


policy.register(WebhookSubscription, _subscriptions_rule)
policy.register(
    WebhookDelivery,
    lambda s: WebhookDelivery.subscription_id.in_(
        select(WebhookSubscription.id).where(_subscriptions_rule(s))
    ),
)
