"""How user accounts read in the history and the journal (never their secrets)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from inventory.auth.forms import ROLE_LABELS, SCOPE_KIND_LABELS
from inventory.auth.models import User, UserScope
from inventory.auth.sso_forms import KIND_LABELS
from inventory.auth.sso_models import Identity, IdentityProvider, SsoDomain, SsoRule
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
        {
            "user_id": _l("User"),
            "kind": Field(_l("Kind"), labels=SCOPE_KIND_LABELS),
            "ref_id": Field(_l("Scope"), "number"),
        },
    )
    describe(
        IdentityProvider,
        _l("Sign-in provider"),
        {
            "code": _l("Code"),
            "kind": Field(_l("Protocol"), labels=KIND_LABELS),
            "label": _l("Button label"),
            "enabled": _l("Shown on the sign-in page"),
            "server_url": _l("Provider address"),
            "client_id": _l("Client id"),
            "scopes": _l("Scopes"),
            "acr_values": _l("Required authentication levels (acr)"),
            "extra_params": _l("Extra authorization parameters"),
            "claim_email": _l("Claim holding the email"),
            "claim_name": _l("Claim holding the name"),
            "emails_verified": _l("The provider verifies every email it gives"),
            "allow_jit": _l("Open an account for unknown people who meet a rule below"),
            "cas_version": _l("CAS version"),
        },
        show="label",
    )
    describe(
        Identity,
        _l("Identity at a provider"),
        {
            "provider_id": _l("Sign-in provider"),
            "subject": _l("Subject"),
            "user_id": _l("User"),
            "email": _l("Email"),
        },
    )
    describe(
        SsoRule,
        _l("Rule that opens accounts"),
        {
            "provider_id": _l("Sign-in provider"),
            "claim": _l("Claim"),
            "value": _l("Value"),
            "role": Field(_l("Role given"), labels=ROLE_LABELS),
            "scope_kind": Field(_l("Kind"), labels=SCOPE_KIND_LABELS),
            "ref_id": Field(_l("Scope given"), "number"),
        },
    )
    describe(
        SsoDomain,
        _l("Domain that must sign in through a provider"),
        {"domain": _l("Email domain"), "note": _l("Note")},
        show="domain",
    )
