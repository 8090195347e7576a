"""Who a provider's person is here: the identity (provider, subject) tied to one account.

The first sign-in of a person links their identity to an account in one of three ways,
never silently by an email the provider did not verify:

1. through an invitation accepted with the provider (the invitation names the account);
2. by a verified email matching an active account;
3. by opening an account just in time, only where the administrator enabled it for the
   provider, with the role and scope the provider's matching rules give.

Each link and each account opened is in the change log (the identity and the user are
audited records), attributed to the provider.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.auth import services
from inventory.auth.models import User
from inventory.auth.providers import EMAIL_DOMAIN, email_domain
from inventory.auth.sso_models import Identity, IdentityProvider, SsoRule
from inventory.core import audit
from inventory.core.db import utcnow
from inventory.core.policy import Role, Scope

# Why a sign-in through a provider failed; each has its translated page (sso_views).
FAILURES = ("denied", "state", "expired", "acr", "invalid", "unreachable", "unknown", "inactive")


class SignInFailure(Exception):
    def __init__(self, reason: str) -> None:
        assert reason in FAILURES, reason
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Claims:
    """What a provider says of a person, whichever the protocol."""

    subject: str
    email: str
    name: str
    email_verified: bool
    values: Mapping[str, Any] = field(default_factory=dict)


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def claims_from(provider: IdentityProvider, subject: str, values: Mapping[str, Any]) -> Claims:
    """The claims of an ID token and userinfo, or a CAS ticket's attributes, read with the
    provider's mapping (which claims hold the email and the name)."""
    if not subject:
        raise SignInFailure("invalid")
    email = services.normalize_email(_text(values.get(provider.claim_email)))
    name = _text(values.get(provider.claim_name))
    if not name:
        name = " ".join(_text(values.get(k)) for k in ("given_name", "family_name")).strip()
    verified = provider.emails_verified or values.get("email_verified") is True
    return Claims(subject, email, name or email or subject, bool(email) and verified, values)


@dataclass(frozen=True)
class _Rules:
    """The acting subject of an account opened by the administrator's rules."""

    role: Role = Role.ADMIN
    scope: Scope = field(default_factory=lambda: Scope(everything=True))


def matching_rules(provider: IdentityProvider, claims: Claims) -> list[SsoRule]:
    """The provider's rules this person meets; only those of the first matching rule's
    role count (an account has one role)."""

    def meets(rule: SsoRule) -> bool:
        if rule.claim == EMAIL_DOMAIN:
            return bool(claims.email) and email_domain(claims.email) == rule.value
        value = claims.values.get(rule.claim)
        given = value if isinstance(value, list) else [value]
        return rule.value in {str(v).strip() for v in given if v is not None}

    met = [rule for rule in provider.rules if meets(rule)]
    return [rule for rule in met if rule.role is met[0].role] if met else []


def _by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email))


def _open_account(session: Session, provider: IdentityProvider, claims: Claims) -> User:
    rules = matching_rules(provider, claims) if provider.allow_jit and claims.email else []
    if not rules or _by_email(session, claims.email) is not None:
        # An unverified email that an account uses is not enough to enter it.
        raise SignInFailure("unknown")
    return services._new_user(
        session,
        _Rules(),
        email=claims.email,
        name=claims.name,
        role=rules[0].role,
        scopes=[services.ScopeChoice(r.scope_kind, r.ref_id) for r in rules],
    )


def sign_in(
    session: Session,
    provider: IdentityProvider,
    claims: Claims,
    invited: User | None = None,
    ip: str | None = None,
) -> User:
    """The account this person signs in to (linked now if it is their first sign-in), its
    last sign-in recorded; :class:`SignInFailure` if they may not enter."""
    actor = audit.Actor(None, f"{provider.label}: {claims.email or claims.subject}"[:200], ip)
    with audit.acting_as(actor):
        identity = session.scalar(
            select(Identity).filter_by(provider_id=provider.id, subject=claims.subject)
        )
        if identity is not None:
            user = identity.user
        else:
            if invited is not None:
                user = invited
                # The invitation is used: its link dies with the account's old token.
                user.session_token = secrets.token_hex(16)
            else:
                known = _by_email(session, claims.email) if claims.email_verified else None
                user = known or _open_account(session, provider, claims)
            identity = Identity(
                provider=provider, subject=claims.subject, user=user, email=claims.email
            )
            session.add(identity)
        if not user.active:
            session.rollback()
            raise SignInFailure("inactive")
        now = utcnow()
        identity.last_login_at = user.last_login_at = now
        user.last_login_via = provider.label
        session.commit()
    return user
