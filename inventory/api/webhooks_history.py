"""How webhook subscriptions and API tokens read in the history, the journal and its
exports, declared at start-up (their secrets are never logged: see their models)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from inventory.api.models import ApiToken, TokenScope
from inventory.api.webhooks import EVENT_LABELS
from inventory.api.webhooks_models import WebhookSubscription
from inventory.core.describe import Field, describe

SCOPE_LABELS = {TokenScope.READ: _l("read only"), TokenScope.WRITE: _l("read and write")}


def init_app(_app: Flask) -> None:
    describe(
        WebhookSubscription,
        _l("Webhook subscription"),
        {
            "collectivite_id": _l("Collectivité"),
            "name": _l("Name"),
            "url": _l("Address"),
            "events": Field(_l("Events"), labels=EVENT_LABELS),
            "active": _l("Active"),
            "created_at": _l("Created on"),
            "secret_rotated_at": _l("New secret made on"),
        },
        show="name",
    )
    describe(
        ApiToken,
        _l("API token"),
        {
            "user_id": _l("Owner"),
            "name": _l("Name"),
            "prefix": _l("Prefix"),
            "scope": Field(_l("Access"), labels=SCOPE_LABELS),
            "networks": _l("Allowed networks"),
            "created_at": _l("Created on"),
            "expires_at": _l("Expires on"),
            "revoked_at": _l("Revoked on"),
        },
        show="name",
    )
