"""Domain errors raised by services (a lost race is turned into one by core.versioning)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule refused a change; ``message`` is translated and shown to the user."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class ConflictError(DomainError):
    """Someone else saved the record since it was loaded (answered with 409)."""
