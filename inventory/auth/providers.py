"""Identity providers as the administrator configures them: their records, their secrets
(from the configuration, never the database), the rules that open accounts, the email
domains that must sign in through a provider, and the ProConnect preset."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.auth.models import User
from inventory.auth.sso_models import (
    Identity,
    IdentityProvider,
    ProviderKind,
    SsoDomain,
    SsoRule,
)
from inventory.core import policy
from inventory.core.errors import ConflictError, DomainError
from inventory.core.policy import ROLE_SCOPE_KINDS, Action, Role, ScopeKind, Subject
from inventory.core.versioning import check_version

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")
# The claim a rule may compare with the email's domain rather than a claim's value.
EMAIL_DOMAIN = "email_domain"

# ProConnect (formerly AgentConnect), the state's federation for public agents: what an
# administrator would otherwise look up in its documentation. ``acr_values`` asks for
# the "eidas1" level; its ID token says which level it gave, checked against this list.
# Its claims add ``siret`` (the agent's organisation) and ``organizational_unit``, its
# ``idp_id`` parameter (in ``extra_params``) sends the agent straight to one identity
# provider of the federation.
PROCONNECT = {
    "code": "proconnect",
    "kind": ProviderKind.OIDC,
    "label": "ProConnect",
    "server_url": "https://auth.agentconnect.gouv.fr/api/v2",
    "scopes": "openid email given_name usual_name siret organizational_unit uid",
    "acr_values": "eidas1",
    "claim_email": "email",
    "claim_name": "usual_name",
    "emails_verified": True,
}
PRESETS: dict[str, Mapping[str, Any]] = {"proconnect": PROCONNECT}


class ProviderError(DomainError):
    pass


class ProviderConflict(ProviderError, ConflictError):
    pass


@dataclass(frozen=True)
class ProviderFields:
    code: str
    kind: ProviderKind
    label: str
    server_url: str
    client_id: str = ""
    scopes: str = "openid email profile"
    acr_values: str = ""
    extra_params: str = ""
    claim_email: str = "email"
    claim_name: str = "name"
    emails_verified: bool = False
    allow_jit: bool = False
    cas_version: str = "3"
    enabled: bool = True


def client_secret(config: Mapping[str, Any], provider: IdentityProvider) -> str:
    """The provider's client secret: ``SSO_CLIENT_SECRETS[code]`` of the instance
    configuration, else the environment's ``SSO_SECRET_<CODE>`` (dashes as underscores)."""
    secrets = config.get("SSO_CLIENT_SECRETS") or {}
    if provider.code in secrets:
        return str(secrets[provider.code])
    return os.environ.get("SSO_SECRET_" + provider.code.upper().replace("-", "_"), "")


def enabled_providers(session: Session) -> list[IdentityProvider]:
    """The buttons of the sign-in page (nobody's scope: anyone may see them)."""
    return list(
        session.scalars(
            select(IdentityProvider)
            .where(IdentityProvider.enabled)
            .order_by(IdentityProvider.label)
        )
    )


def provider_by_code(session: Session, code: str) -> IdentityProvider | None:
    return session.scalar(
        select(IdentityProvider).where(IdentityProvider.code == code, IdentityProvider.enabled)
    )


def list_providers(session: Session, actor: Subject) -> list[IdentityProvider]:
    policy.require(actor, Action.ADMIN)
    return list(session.scalars(select(IdentityProvider).order_by(IdentityProvider.label)))


def _clean(fields: ProviderFields) -> ProviderFields:
    code = fields.code.strip().lower()
    if not CODE.match(code):
        raise ProviderError(
            _l("Use lower-case letters, digits and dashes (at most 40)."), field="code"
        )
    url = fields.server_url.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", url):
        raise ProviderError(_l("Give the provider's address (https://…)."), field="server_url")
    if fields.kind is ProviderKind.OIDC and not fields.client_id.strip():
        raise ProviderError(_l("An OpenID Connect provider needs a client id."), field="client_id")
    if fields.cas_version not in ("2", "3"):
        raise ProviderError(_l("The CAS version is 2 or 3."), field="cas_version")
    for pair in fields.extra_params.split():
        if "=" not in pair:
            raise ProviderError(_l("Write each parameter as name=value."), field="extra_params")
    return ProviderFields(
        **{
            **fields.__dict__,
            "code": code,
            "server_url": url,
            "label": fields.label.strip(),
            "client_id": fields.client_id.strip(),
        }
    )


def save_provider(
    session: Session,
    actor: Subject,
    provider: IdentityProvider | None,
    fields: ProviderFields,
    version: int | None = None,
) -> IdentityProvider:
    """Create or change a provider; a form loaded before someone else's save is refused."""
    policy.require(actor, Action.ADMIN)
    fields = _clean(fields)
    taken = select(IdentityProvider.id).where(IdentityProvider.code == fields.code)
    if provider is not None:
        taken = taken.where(IdentityProvider.id != provider.id)
        check_version(
            provider,
            version,
            ProviderConflict(
                _l("Someone saved this provider meanwhile: check their change, then save yours.")
            ),
        )
    if session.scalar(taken) is not None:
        raise ProviderError(_l("Another provider uses this code."), field="code")
    if provider is None:
        provider = IdentityProvider()
        session.add(provider)
    for name, value in fields.__dict__.items():
        setattr(provider, name, value)
    session.commit()
    return provider


def accounts_using(session: Session, provider: IdentityProvider) -> int:
    """How many accounts sign in through ``provider`` (an identity of theirs is linked)."""
    return int(
        session.scalar(
            select(func.count(func.distinct(Identity.user_id))).where(
                Identity.provider_id == provider.id
            )
        )
        or 0
    )


def delete_provider(session: Session, actor: Subject, provider: IdentityProvider) -> None:
    """Remove a provider nobody signs in through (its rules go with it); one that accounts
    use is refused: deactivate it instead, which keeps their identities for its return."""
    policy.require(actor, Action.ADMIN)
    used = accounts_using(session, provider)
    if used:
        raise ProviderError(
            ngettext(
                "%(num)d account signs in through this provider: it cannot be deleted. "
                "Deactivate it instead: it leaves the sign-in page and the account keeps "
                "its link for when it returns.",
                "%(num)d accounts sign in through this provider: it cannot be deleted. "
                "Deactivate it instead: it leaves the sign-in page and the accounts keep "
                "their links for when it returns.",
                used,
            )
        )
    session.delete(provider)
    session.commit()


def deactivate_provider(session: Session, actor: Subject, provider: IdentityProvider) -> None:
    """Hide a provider from the sign-in page and refuse its sign-ins (its identities stay)."""
    policy.require(actor, Action.ADMIN)
    provider.enabled = False
    session.commit()


def add_rule(
    session: Session,
    actor: Subject,
    provider: IdentityProvider,
    *,
    claim: str,
    value: str,
    role: Role,
    scope_kind: ScopeKind,
    ref_id: int,
) -> SsoRule:
    policy.require(actor, Action.ADMIN)
    claim, value = claim.strip(), value.strip()
    if not claim or not value:
        raise ProviderError(_l("Give the claim and the value it must have."), field="value")
    if role is Role.ADMIN or scope_kind not in ROLE_SCOPE_KINDS[role]:
        raise ProviderError(_l("This role cannot be given that kind of scope."), field="role")
    if claim == EMAIL_DOMAIN:
        value = value.lower().lstrip("@")
    exists = select(SsoRule.id).filter_by(
        provider_id=provider.id, claim=claim, value=value, scope_kind=scope_kind, ref_id=ref_id
    )
    if session.scalar(exists) is not None:
        raise ProviderError(_l("This rule exists already."), field="value")
    rule = SsoRule(
        provider=provider,
        claim=claim,
        value=value,
        role=role,
        scope_kind=scope_kind,
        ref_id=ref_id,
    )
    session.add(rule)
    session.commit()
    return rule


def delete_rule(session: Session, actor: Subject, rule: SsoRule) -> None:
    policy.require(actor, Action.ADMIN)
    session.delete(rule)
    session.commit()


# -- email domains that must sign in through a provider ----------------------------------
def email_domain(email: str) -> str:
    return email.strip().lower().rpartition("@")[2]


def list_domains(session: Session, actor: Subject) -> list[SsoDomain]:
    policy.require(actor, Action.ADMIN)
    return list(session.scalars(select(SsoDomain).order_by(SsoDomain.domain)))


def require_sso(session: Session, actor: Subject, domain: str, note: str = "") -> SsoDomain:
    """Refuse password sign-in to every address of ``domain`` (they use a provider)."""
    policy.require(actor, Action.ADMIN)
    domain = domain.strip().lower().lstrip("@")
    if not DOMAIN.match(domain):
        raise ProviderError(_l("Give a domain such as ac-creteil.fr."), field="domain")
    if session.scalar(select(SsoDomain.id).where(SsoDomain.domain == domain)) is not None:
        raise ProviderError(_l("This domain signs in through a provider already."), field="domain")
    row = SsoDomain(domain=domain, note=note.strip())
    session.add(row)
    # No password is kept for accounts that may no longer use one.
    for user in session.scalars(select(User).where(User.email.like(f"%@{domain}"))):
        user.password_hash = None
    session.commit()
    return row


def release_domain(session: Session, actor: Subject, row: SsoDomain) -> None:
    policy.require(actor, Action.ADMIN)
    session.delete(row)
    session.commit()


def password_allowed(session: Session, email: str) -> bool:
    """Whether ``email`` may sign in with a password (its domain requires no provider)."""
    domain = email_domain(email)
    return not domain or (
        session.scalar(select(func.count(SsoDomain.id)).where(SsoDomain.domain == domain)) == 0
    )
