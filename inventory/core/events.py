"""Business events the outside world may hear of (a ticket created, a dossier's status
changed…), told by the services in their own transaction.

The services sit below the API in the layers, so they cannot call the webhooks
themselves: they :func:`emit` an event here, and whoever listens (the webhooks,
``inventory.api.webhooks``) writes what it needs in the same session, so that the event
exists if and only if the business change commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

TICKET_CREATED = "ticket.created"
TICKET_STATUS_CHANGED = "ticket.status_changed"
TICKET_RESOLVED = "ticket.resolved"
ASSET_STATUS_CHANGED = "asset.status_changed"
DOSSIER_STATUS_CHANGED = "dossier.status_changed"
JOB_FINISHED = "job.finished"
LOAN_ITEM_MISSING = "loan.item_missing"
NAMES = (
    TICKET_CREATED,
    TICKET_STATUS_CHANGED,
    TICKET_RESOLVED,
    ASSET_STATUS_CHANGED,
    DOSSIER_STATUS_CHANGED,
    JOB_FINISHED,
    LOAN_ITEM_MISSING,
)


@dataclass(frozen=True)
class Event:
    name: str
    # Whose event it is: only that collectivité's subscriptions hear of it.
    collectivite_id: int | None
    data: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Session, Event], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> Listener:
    """Hear every event emitted from now on (in the emitter's session)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def emit(session: Session, name: str, collectivite_id: int | None, **data: Any) -> None:
    """Tell the listeners of an event, in the caller's transaction (the caller commits)."""
    if name not in NAMES:
        raise ValueError(f"unknown event {name}")
    event = Event(name, collectivite_id, data)
    for listener in _listeners:
        listener(session, event)
