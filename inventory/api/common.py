"""What the record endpoints (tickets, grants, training, figures, history) share: the
version a write was prepared on (If-Match or a ``version`` field), the cursor of a keyed
list, and the access rule declared on an operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import PreconditionFailed, PreconditionRequired

from inventory.api import auth
from inventory.api.schemas import N_, Query
from inventory.core.errors import ConflictError, DomainError

V = TypeVar("V", bound=Callable[..., Any])


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def sent_version(data: dict[str, Any], current: int) -> int:
    """The version the caller read: If-Match (412 when it is not ``current``) or the body's
    ``version`` (the service answers 409 when it is stale); neither: 428."""
    value = request.headers.get("If-Match", "").strip()
    header: int | None = None
    if value:
        value = value.removeprefix("W/").strip('"')
        if not value.isdigit() or len(value) > 9:
            raise auth.refusal(PreconditionFailed, _("If-Match must be the record's ETag."))
        header = int(value)
        if header != current:
            raise auth.refusal(
                PreconditionFailed, _("Someone else saved this record since you read it.")
            )
    version = data.pop("version", None)
    if version is None:
        version = header
    if version is None:
        raise auth.refusal(
            PreconditionRequired,
            _("Send the version you read: as version in the body, or as If-Match."),
        )
    return int(version)


def reworded_conflict() -> ConflictError:
    """A stale version, worded for a program (the pages' wording speaks of a form)."""
    return ConflictError(
        _("Someone else saved this record since you read it: read it again, then resend.")
    )


def cursor_of(args: dict[str, Any]) -> int | None:
    """The key a keyed page starts after (the previous page's ``next_cursor``)."""
    cursor = args.get("cursor") or ""
    if cursor and not (cursor.isdigit() and len(cursor) < 12):
        raise DomainError(_("This cursor is not valid."), field="cursor")
    return int(cursor) if cursor else None


def next_cursor(page: Any) -> str | None:
    return str(page.last_key) if page.has_next and page.last_key is not None else None


def creates(view: V) -> V:
    """Mark an operation that creates a record: it needs no version, and an empty body is
    answered by the service's first field error (the access matrix expects 422)."""
    view.api_creates = True  # type: ignore[attr-defined]
    return view


class CursorQuery(Query):
    cursor = fields.String(
        metadata={"description": N_("The next_cursor of the previous page; none: the first page")}
    )
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=200),
        metadata={"description": N_("Items per page")},
    )


class Versioned(Schema):
    version = fields.Integer(metadata={"description": N_("The version read; or send If-Match")})
