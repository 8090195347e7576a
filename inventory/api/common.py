"""What the API's endpoints share beyond authentication: the cursor of key-paged lists,
sparse field sets, the version a write must send (optimistic locking), the scope checked
before a body is read, and the access rule declared on an operation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema
from werkzeug.exceptions import PreconditionFailed, PreconditionRequired

from inventory.api import auth
from inventory.api.schemas import N_, Int, Problem
from inventory.core import policy
from inventory.core.errors import ConflictError, DomainError
from inventory.core.pagination import KeyedPage
from inventory.core.policy import Action
from inventory.extensions import db

V = TypeVar("V", bound=Callable[..., Any])


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def cursor_of(args: dict[str, Any]) -> int | None:
    """The key a page starts after: the previous page's ``next_cursor`` (an id)."""
    cursor = args.get("cursor") or ""
    if cursor and not (cursor.isdigit() and len(cursor) < 12):
        raise DomainError(_("This cursor is not valid."), field="cursor")
    return int(cursor) if cursor else None


def page_body(page: KeyedPage[Any]) -> dict[str, Any]:
    """A key-paged list as the API answers it: pass ``next_cursor`` until it is null."""
    return {
        "items": page.items,
        "next_cursor": next_cursor(page),
        "total": page.total,
        "capped": page.capped,
    }


def sparse_fields(value: str | None, item: type[Schema]) -> tuple[str, ...] | None:
    """The fields asked for with ``fields=a,b`` (None: all), each one of ``item``'s."""
    if not value:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    known = item().fields
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise DomainError(
            _("Unknown fields: %(names)s.", names=", ".join(unknown) or value), field="fields"
        )
    return names


def sparse(
    body: Any, schema: type[Schema], names: tuple[str, ...] | None, *, nested: str | None = None
) -> Any:
    """``body`` with only the fields asked for (of each of its ``nested`` items when it is
    a page); unchanged when all are asked for, to be dumped by the declared schema."""
    if names is None:
        return body
    page_fields = [n for n in schema().fields if n != nested]
    only: Sequence[str] = (
        [*page_fields, *(f"{nested}.{n}" for n in names)] if nested else list(names)
    )
    return jsonify(schema(only=only).dump(body))


def version_sent(data: dict[str, Any], current: int, stale: str | None = None) -> int:
    """The version a write was made on: ``If-Match`` (412, saying ``stale``, when it is
    not ``current``) or ``version`` in the body (the service answers 409 when stale); 428
    without either."""
    if stale is None:
        stale = _("Someone else saved this record since you read it.")
    header = request.headers.get("If-Match", "").strip()
    version = data.pop("version", None)
    if header:
        value = header.removeprefix("W/").strip('"')
        if not value.isdigit() or len(value) > 9:
            raise auth.refusal(PreconditionFailed, _("If-Match must be the ETag you read."))
        if int(value) != current:
            raise auth.refusal(PreconditionFailed, stale)
        return int(value) if version is None else int(version)
    if version is None:
        raise auth.refusal(
            PreconditionRequired,
            _("Send the version you read: as version in the body, or as If-Match."),
        )
    return int(version)


def scoped(model: type, arg: str, action: Action = Action.EDIT) -> Callable[[V], V]:
    """Load the object of the URL through the policy before the body is read: out of
    scope, 404 whatever was sent (as the pages answer)."""

    def decorate(view: V) -> V:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            policy.load_or_404(current_user, model, kwargs[arg], db.session, action)
            return view(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate


def created(body: Any, location: str, version: int | None = None) -> tuple[Any, int, Any]:
    headers = {"Location": location, **(etag(version) if version is not None else {})}
    return body, 201, headers


def reworded_conflict() -> ConflictError:
    """A stale version, worded for a program (the pages' wording speaks of a form)."""
    return ConflictError(
        _("Someone else saved this record since you read it: read it again, then resend.")
    )


def next_cursor(page: Any) -> str | None:
    return str(page.last_key) if page.has_next and page.last_key is not None else None


def creates(view: V) -> V:
    """Mark an operation that creates a record: it needs no version, and an empty body is
    answered by the service's first field error (the access matrix expects 422)."""
    view.api_creates = True  # type: ignore[attr-defined]
    return view


class Versioned(Schema):
    version = Int(metadata={"description": N_("The version read; or send If-Match")})


def problem_answers(blueprint: Any, *codes: int) -> Callable[[V], V]:
    """Declare on ``blueprint``'s operation the problem details it may answer: always 400
    (a request that is not even well-formed, such as a body that is not JSON), 401, 404
    and 429, and ``codes``."""

    def decorate(view: V) -> V:
        for code in sorted({400, 401, 404, 429, *codes}, reverse=True):
            view = blueprint.alt_response(
                code,
                schema=Problem,
                description=N_("Problem details (RFC 9457)"),
                content_type="application/problem+json",
            )(view)
        return view

    return decorate
