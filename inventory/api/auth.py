"""How /api/v1 knows who calls: ``Authorization: Bearer <token>`` and nothing else (a
session cookie never authenticates an API call), the token's scope for writes, its own
rate limit, and every refusal as RFC 9457 problem details."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, current_app, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden, HTTPException, Unauthorized
from werkzeug.wrappers import Response

from inventory.api import tokens
from inventory.core import audit
from inventory.core.errors import ConflictError, DomainError
from inventory.core.reads import SAFE_METHODS
from inventory.extensions import db
from inventory.web import problem

DEFAULT_RATE_LIMIT = "600 per minute"


def refusal(kind: type[HTTPException], detail: str) -> HTTPException:
    """An HTTP error whose description is the problem's detail (a translated sentence)."""
    error = kind(detail)
    error.api_detail = True  # type: ignore[attr-defined]
    return error


def _secret() -> str | None:
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def rate_limit_key() -> str:
    """Each token counts its own requests (by its hash: known before the database is
    read); a call without a token counts by address."""
    secret = _secret()
    if secret is None:
        return f"api-ip:{request.remote_addr}"
    return "api-token:" + hashlib.sha256(secret.encode()).hexdigest()[:32]


def rate_limit() -> str:
    return str(current_app.config.get("API_RATE_LIMIT") or DEFAULT_RATE_LIMIT)


def authenticate() -> None:
    """Before every API view: the token's user becomes ``current_user`` and the change
    log's actor (marked as API); without a valid token, 401."""
    secret = _secret()
    if secret is None:
        raise refusal(Unauthorized, _("Send an API token: Authorization: Bearer <token>."))
    token = tokens.authenticate(db.session, secret, request.remote_addr)
    if token is None:
        raise refusal(
            Unauthorized, _("This token is unknown, expired, revoked or not allowed here.")
        )
    user = token.user
    g._login_user = user  # Flask-Login's current_user for this request, never the cookie's
    g.api_token = token
    g.audit_token = audit.set_actor(
        audit.Actor(user.id, f"{user.email} (API)"[:200], request.remote_addr)
    )
    if request.method not in SAFE_METHODS and not token.writes:
        raise refusal(Forbidden, _("This token is read-only."))


# Marshmallow's messages, translated (the request's field errors).
FIELD_MESSAGES = {
    "Not a valid integer.": _l("Not a valid integer."),
    "Not a valid string.": _l("Not a valid string."),
    "Not a valid date.": _l("Not a valid date."),
    "Not a valid boolean.": _l("Not a valid boolean."),
    "Unknown field.": _l("Unknown field."),
    "Field may not be null.": _l("This field may not be empty."),
    "Missing data for required field.": _l("This field is required."),
    "Invalid input type.": _l("Invalid input type."),
    "Out of range.": _l("This number is beyond what can be stored."),
    "Holds a control character.": _l(
        "This text holds a control character, which cannot be stored."
    ),
}

TITLES = {
    400: _l("Bad request"),
    401: _l("Authentication required"),
    403: _l("Not allowed with this token"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    412: _l("Precondition failed"),
    413: _l("Payload too large"),
    422: _l("Invalid request"),
    428: _l("Precondition required"),
    429: _l("Too many requests"),
}


def _field_errors(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten webargs' {location: {field: [messages]}} into [{field, message}]."""
    out: list[dict[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in {"json", "query", "form", "headers", "path"} and not prefix:
                out += _field_errors(value)
            else:
                out += _field_errors(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list):
        for message in messages:
            if isinstance(message, str):
                out.append({"field": prefix, "message": str(FIELD_MESSAGES.get(message, message))})
            else:
                out += _field_errors(message, prefix)
    return out


def http_error(error: HTTPException) -> Response:
    code = error.code or 500
    if code == 422 and isinstance(getattr(error, "data", None), dict):
        errors = _field_errors(error.data.get("messages", {}))  # type: ignore[attr-defined]
        return problem(422, str(TITLES[422]), _("Some fields are not valid."), errors)
    title = str(TITLES.get(code, error.name))
    detail = error.description if getattr(error, "api_detail", False) else None
    headers = {"WWW-Authenticate": 'Bearer realm="socle"'} if code == 401 else None
    return problem(code, title, detail, headers=headers)


def conflict_error(error: ConflictError) -> Response:
    db.session.rollback()
    return problem(409, str(TITLES[409]), str(error.message))


def domain_error(error: DomainError) -> Response:
    """A service's refusal: 422 naming the field, with its translated message."""
    db.session.rollback()
    errors = [{"field": error.field or "", "message": str(error.message)}]
    return problem(422, str(TITLES[422]), str(error.message), errors)


def install(bp: Blueprint) -> None:
    """The bearer check and the problem answers of an API blueprint."""
    bp.before_request(authenticate)
    for code in (400, 401, 403, 404, 405, 409, 412, 413, 422, 428, 429):
        bp.register_error_handler(code, http_error)
    bp.register_error_handler(ConflictError, conflict_error)
    bp.register_error_handler(DomainError, domain_error)
