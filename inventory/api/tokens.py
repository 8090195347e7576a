"""A token's life: created (its secret shown once), listed, used, revoked."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from netaddr import AddrFormatError, IPAddress, IPSet
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from inventory.api.models import ApiToken, TokenScope
from inventory.auth.models import User
from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.errors import DomainError
from inventory.core.policy import Action

PREFIX = "socle_"
# What a list shows of a token to recognise it: the prefix and the secret's first 8 chars.
SHOWN = len(PREFIX) + 8
# The last use is written at most this often (each write is an UPDATE).
LAST_USE_EVERY = timedelta(seconds=60)
# A role with none of these only reads: its tokens are read-only.
WRITE_ACTIONS = (Action.EDIT, Action.FINANCE, Action.TRAIN, Action.ADMIN)


class TokenError(DomainError):
    pass


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_networks(text: str) -> IPSet:
    """The allowed networks of a token, one per line or separated by commas or spaces."""
    found = IPSet()
    for part in re.split(r"[\s,;]+", text or ""):
        if not part:
            continue
        try:
            found.add(part)
        except (AddrFormatError, ValueError, TypeError):
            raise TokenError(
                _l("«%(value)s» is not an address or a network.", value=part), field="networks"
            ) from None
    return found


def create_token(
    session: Session,
    user: User,
    *,
    name: str,
    scope: TokenScope,
    expires_at: datetime | None,
    networks: str = "",
) -> NewToken:
    """A new token of ``user`` (acting for themselves); the secret is in the answer only."""
    name = (name or "").strip()
    if not name:
        raise TokenError(_l("Give the token a name."), field="name")
    if scope is TokenScope.WRITE and not any(policy.allowed(user, a) for a in WRITE_ACTIONS):
        raise TokenError(_l("Your role cannot change anything: choose read only."), "scope")
    if expires_at is not None and expires_at <= utcnow():
        raise TokenError(_l("The expiry must be in the future."), field="expires_at")
    parse_networks(networks)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name[:100],
        prefix=secret[:SHOWN],
        secret_hash=hash_secret(secret),
        scope=scope,
        networks="\n".join(p for p in re.split(r"[\s,;]+", networks or "") if p),
        expires_at=expires_at,
    )
    session.add(token)
    session.commit()
    return NewToken(token, secret)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(session.scalars(stmt))


def every_token(session: Session, user: User) -> list[ApiToken]:
    """Everyone's tokens, for an administrator."""
    policy.require(user, Action.ADMIN)
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke a token: its owner's, or anyone's for an administrator (else 404)."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and not policy.allowed(user, Action.ADMIN)):
        raise policy.Denied()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.commit()
    return token


def authenticate(session: Session, secret: str, ip: str | None) -> ApiToken | None:
    """The token this secret is, when it may be used now from ``ip``; records its use."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    digest = hash_secret(secret)
    token = session.scalar(select(ApiToken).where(ApiToken.secret_hash == digest))
    if token is None or not hmac.compare_digest(token.secret_hash, digest):
        return None
    now = utcnow()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if not token.user.active:
        return None
    if token.networks:
        try:
            if ip is None or IPAddress(ip) not in parse_networks(token.networks):
                return None
        except (AddrFormatError, ValueError, TokenError):
            return None
    if (
        token.last_used_at is None
        or now - token.last_used_at >= LAST_USE_EVERY
        or token.last_used_ip != ip
    ):
        # A plain UPDATE: a use is not a change of the token for the change log.
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == token.id)
            .values(last_used_at=now, last_used_ip=ip)
        )
        session.commit()
    return token
