"""The address the app prints in QR codes and mails: ``BASE_URL``.

Configured, it is used as it is. Unset, a development or test app (debug or testing) uses
the address it is reached at (the request's host; outside a request, the address ``flask
run`` serves by default; ``scripts/demo`` exports its own); a
production app has none: label printing refuses, saying why (:data:`MISSING`), and the other
readers fall back as they can (a calendar uses the request's host, a mail the bare path).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l

# Where ``flask run`` serves by default: a development app's address outside a request.
DEVELOPMENT = "http://127.0.0.1:5000"

MISSING = _l(
    "Labels cannot be printed: the address printed in their QR codes is not configured. "
    "Set BASE_URL (for example https://socle.ville.fr) in the environment or in "
    "instance/config.py, then restart the application."
)


def configured(config: Mapping[str, Any] | None = None) -> str | None:
    """``BASE_URL`` as configured, without a final slash; None when unset or blank."""
    config = current_app.config if config is None else config
    value = str(config.get("BASE_URL") or "").strip().rstrip("/")
    return value or None


def request_base() -> str | None:
    """The address the current request reached the app at (after the trusted proxies)."""
    return request.host_url.rstrip("/") if has_request_context() else None


def base_url(config: Mapping[str, Any] | None = None) -> str | None:
    """The address to print: the configured one, else in debug or testing the request's
    host; None for a production app without ``BASE_URL``."""
    config = current_app.config if config is None else config
    found = configured(config)
    if found:
        return found
    if config.get("DEBUG") or config.get("TESTING"):
        return request_base() or DEVELOPMENT
    return None
