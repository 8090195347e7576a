"""How user accounts read in the history and the journal (never their secrets)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from inventory.auth.forms import ROLE_LABELS
from inventory.auth.models import User, UserScope
from inventory.core.describe import Field, describe


def init_app(_app: Flask) -> None:
    describe(
        User,
        _l("User"),
        {
            "email": _l("Email"),
            "name": _l("Name"),
            "role": Field(_l("Role"), labels=ROLE_LABELS),
            "active": _l("Active"),
            "created_at": _l("Created on"),
        },
        show="name",
    )
    describe(
        UserScope,
        _l("User scope"),
        {"user_id": _l("User"), "kind": _l("Kind"), "ref_id": Field(_l("Scope"), "number")},
    )
