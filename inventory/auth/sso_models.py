"""Identity providers (OpenID Connect, CAS), the identities they vouch for, the rules that
open accounts just in time, and the email domains that must sign in through one of them.

A provider's client secret is never stored here: it is read from the instance
configuration (``SSO_CLIENT_SECRETS = {"proconnect": "..."}``) or from the environment
(``SSO_SECRET_PROCONNECT``), see :func:`inventory.auth.providers.client_secret`.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.auth.models import User
from inventory.core import policy
from inventory.core.audit import Audited
from inventory.core.db import Base, UTCDateTime, str_enum, utcnow
from inventory.core.policy import Role, ScopeKind
from inventory.core.versioning import Versioned


class ProviderKind(enum.StrEnum):
    OIDC = "oidc"
    CAS = "cas"


class IdentityProvider(Audited, Versioned, Base):
    """One button of the sign-in page: an OpenID Connect issuer or a CAS server."""

    __tablename__ = "identity_providers"
    id: Mapped[int] = mapped_column(primary_key=True)
    # In the callback addresses (/sso/<code>/callback): short, stable, lower case.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[ProviderKind] = mapped_column(str_enum(ProviderKind, "provider_kind"))
    label: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # OIDC: the issuer (its /.well-known/openid-configuration is read); CAS: the server's
    # base address (…/cas), to which /login, /p3/serviceValidate and /logout are added.
    server_url: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200), default="")
    scopes: Mapped[str] = mapped_column(String(300), default="openid email profile")
    # OIDC: asked for, and required in the ID token (space-separated); empty: not asked.
    acr_values: Mapped[str] = mapped_column(String(300), default="")
    # Extra parameters of the authorization request, e.g. ProConnect's idp_id ("k=v k=v").
    extra_params: Mapped[str] = mapped_column(String(500), default="")
    # Claim (or CAS attribute) names: where the email and the name are read.
    claim_email: Mapped[str] = mapped_column(String(100), default="email")
    claim_name: Mapped[str] = mapped_column(String(100), default="name")
    # Whether the provider checks every email it gives (ProConnect, an académie's CAS):
    # then an email matching an account links it; otherwise only ``email_verified`` does.
    emails_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    # Unknown people may have an account opened by the rules below (never by default).
    allow_jit: Mapped[bool] = mapped_column(Boolean, default=False)
    # CAS protocol version: "3" (/p3/serviceValidate, attributes) or "2" (/serviceValidate).
    cas_version: Mapped[str] = mapped_column(String(2), default="3")
    rules: Mapped[list[SsoRule]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", order_by="SsoRule.id"
    )

    @property
    def audit_label(self) -> str:
        return self.label


class Identity(Audited, Base):
    """A person as one provider knows them (its ``sub`` or CAS user), tied to one account."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider_id", "subject"),)
    __audit_exclude__ = frozenset({"last_login_at"})
    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider: Mapped[IdentityProvider] = relationship()
    user: Mapped[User] = relationship()

    @property
    def audit_label(self) -> str:
        return f"{self.provider_id}:{self.subject}"


class SsoRule(Audited, Base):
    """Who may enter unknown, and as what: people whose claim ``claim`` equals ``value``
    (``email_domain`` compares the email's domain) get ``role`` on that scope."""

    __tablename__ = "sso_rules"
    __table_args__ = (UniqueConstraint("provider_id", "claim", "value", "scope_kind", "ref_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="CASCADE"), index=True
    )
    claim: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "sso_rule_role"))
    scope_kind: Mapped[ScopeKind] = mapped_column(str_enum(ScopeKind, "sso_rule_scope_kind"))
    ref_id: Mapped[int] = mapped_column(Integer)
    provider: Mapped[IdentityProvider] = relationship(back_populates="rules")


class SsoDomain(Audited, Base):
    """An email domain whose people must sign in through a provider: no password for them."""

    __tablename__ = "sso_domains"
    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(200), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")

    @property
    def audit_label(self) -> str:
        return self.domain


# Administrators' only (their scope is everything).
for _model in (IdentityProvider, Identity, SsoRule, SsoDomain):
    policy.register(_model, lambda scope: false())
