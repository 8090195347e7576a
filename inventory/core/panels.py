"""What one domain shows on another's page, registered at start-up.

A school's page shows its equipment and its accompaniment sessions, but the registry comes
before equipment and training in the domain order and may not import them. So each domain
registers, when the application starts (as its access rules are), a function that reads
what its panel shows; the page asks for the panels registered under its name and renders
each one's template in order. Panel functions read the database; templates only display
what they return."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from inventory.core.policy import Subject


@dataclass(frozen=True)
class Panel:
    """A template to include in the page, and the plain data it displays (the template
    reads it as ``panel.data``)."""

    template: str
    data: Mapping[str, Any] = field(default_factory=dict)


# (session, the acting user, what the page is about) -> the panel, or None to show nothing.
PanelFunction = Callable[[Session, Subject, Any], Panel | None]


@dataclass(frozen=True)
class _Entry:
    order: int
    name: str
    read: PanelFunction


_PANELS: dict[str, dict[str, _Entry]] = {}


def register_panel(page: str, read: PanelFunction, *, order: int = 100) -> None:
    """Show ``read``'s panel on ``page``, in increasing ``order``. Registering the same
    function again (the application is created once per test) replaces it."""
    name = f"{read.__module__}.{read.__qualname__}"
    _PANELS.setdefault(page, {})[name] = _Entry(order, name, read)


def panels(page: str, session: Session, user: Subject, subject: Any) -> list[Panel]:
    """The panels registered for ``page``, read for ``subject``, in order."""
    entries = sorted(_PANELS.get(page, {}).values(), key=lambda e: (e.order, e.name))
    return [p for e in entries if (p := e.read(session, user, subject)) is not None]
