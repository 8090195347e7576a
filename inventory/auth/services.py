"""Accounts: passwords, sign-in, invitations and resets, roles and scopes."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from inventory.auth.models import User, UserScope
from inventory.auth.providers import password_allowed
from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.errors import DomainError
from inventory.core.mail import send_mail
from inventory.core.policy import ROLE_SCOPE_KINDS, Action, Role, ScopeKind, Subject

MIN_PASSWORD_LENGTH = 12
RESET_MAX_AGE = 3600
INVITE_MAX_AGE = 7 * 24 * 3600
# Checked against when the email is unknown, so that both paths cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password-at-all")


class AccountError(DomainError):
    pass


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("inventory.auth").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def check_password_strength(password: str, email: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )
    lowered = password.lower()
    local = email.split("@")[0].lower()
    if lowered in common_passwords() or len(set(lowered)) < 4 or (local and local in lowered):
        raise AccountError(
            _l("This password is too easy to guess: choose another one."), field="password"
        )


def normalize_email(email: str) -> str:
    return email.strip().lower()


SSO_ONLY = _l("Addresses of this domain sign in through their identity provider, not a password.")


def set_password(session: Session, user: User, password: str) -> None:
    """Store a new password; every other session and pending link of this user dies."""
    if not password_allowed(session, user.email):
        raise AccountError(SSO_ONLY, field="password")
    check_password_strength(password, user.email)
    user.password_hash = generate_password_hash(password)
    user.session_token = secrets.token_hex(16)
    session.commit()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The account ``email`` and ``password`` open, or None; :class:`AccountError` when
    the email's domain must sign in through an identity provider."""
    if not password_allowed(session, normalize_email(email)):
        check_password_hash(_DUMMY_HASH, password)
        raise AccountError(SSO_ONLY, field="email")
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    user.last_login_via = "password"
    session.commit()
    return user


# -- signed links ------------------------------------------------------------------------
def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"socle-{purpose}")


def make_token(secret: str, user: User, purpose: str) -> str:
    # The session token changes with the password, which makes each link single-use.
    return _serializer(secret, purpose).dumps({"u": user.id, "t": user.session_token})


def user_from_token(
    session: Session, secret: str, token: str, purpose: str, max_age: int
) -> User | None:
    try:
        data = _serializer(secret, purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = session.get(User, data.get("u"))
    if user is None or not user.active or user.session_token != data.get("t"):
        return None
    return user


def request_password_reset(session: Session, config: Any, email: str, link: Any) -> None:
    """Mail a reset link if the account exists; say nothing either way."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.active:
        return
    url = link(make_token(config["SECRET_KEY"], user, "reset"))
    send_mail(
        session,
        config,
        user.email,
        str(_l("Socle: reset your password")),
        str(
            _l(
                "Hello %(name)s,\n\nTo choose a new password, open this link within one "
                "hour:\n%(url)s\n\nIf you did not ask for it, ignore this message.",
                name=user.name,
                url=url,
            )
        ),
    )
    session.commit()


# -- administration ------------------------------------------------------------------------
@dataclass(frozen=True)
class ScopeChoice:
    kind: ScopeKind
    ref_id: int


def _check_scopes(role: Role, scopes: Iterable[ScopeChoice]) -> list[ScopeChoice]:
    scopes = list(dict.fromkeys(scopes))
    allowed_kinds = ROLE_SCOPE_KINDS[role]
    wrong = [s for s in scopes if s.kind not in allowed_kinds]
    if wrong:
        raise AccountError(_l("This role cannot be given that kind of scope."), field="scopes")
    if role is not Role.ADMIN and not scopes:
        raise AccountError(_l("Choose at least one scope for this role."), field="scopes")
    return scopes


def create_user(
    session: Session,
    actor: Subject,
    *,
    email: str,
    name: str,
    role: Role,
    scopes: Iterable[ScopeChoice] = (),
    password: str | None = None,
) -> User:
    user = _new_user(
        session, actor, email=email, name=name, role=role, scopes=scopes, password=password
    )
    session.commit()
    return user


def _new_user(
    session: Session,
    actor: Subject,
    *,
    email: str,
    name: str,
    role: Role,
    scopes: Iterable[ScopeChoice] = (),
    password: str | None = None,
) -> User:
    """The account, added to the session and flushed (its id is needed), not committed."""
    policy.require(actor, Action.ADMIN)
    email = normalize_email(email)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise AccountError(_l("An account already uses this email."), field="email")
    user = User(
        email=email, name=name.strip(), role=role, active=True, session_token=secrets.token_hex(16)
    )
    user.scopes = [UserScope(kind=s.kind, ref_id=s.ref_id) for s in _check_scopes(role, scopes)]
    if password is not None:
        check_password_strength(password, email)
        user.password_hash = generate_password_hash(password)
    session.add(user)
    session.flush()
    return user


def invite_user(session: Session, config: Any, actor: Subject, link: Any, **fields: Any) -> User:
    """Create the account without a password and mail a link to choose one, in one
    transaction: the invitation is in the outbox if and only if the account exists."""
    user = _new_user(session, actor, **fields)
    url = link(make_token(config["SECRET_KEY"], user, "invite"))
    send_mail(
        session,
        config,
        user.email,
        str(_l("Socle: your account")),
        str(
            _l(
                "Hello %(name)s,\n\nAn account was opened for you on Socle. Choose your "
                "password within 7 days with this link:\n%(url)s\n",
                name=user.name,
                url=url,
            )
        ),
    )
    session.commit()
    return user


def update_user(
    session: Session,
    actor: Subject,
    user: User,
    *,
    name: str,
    role: Role,
    scopes: Iterable[ScopeChoice],
    active: bool,
) -> User:
    policy.require(actor, Action.ADMIN)
    if getattr(actor, "id", None) == user.id and (not active or role is not Role.ADMIN):
        raise AccountError(_l("You cannot remove your own administrator access."))
    checked = _check_scopes(role, scopes)
    user.name, user.role = name.strip(), role
    wanted = {(s.kind, s.ref_id) for s in checked}
    user.scopes = [s for s in user.scopes if (s.kind, s.ref_id) in wanted] + [
        UserScope(kind=s.kind, ref_id=s.ref_id)
        for s in checked
        if (s.kind, s.ref_id) not in {(x.kind, x.ref_id) for x in user.scopes}
    ]
    if user.active and not active:
        user.session_token = secrets.token_hex(16)
    user.active = active
    session.commit()
    return user


def deactivate_user(session: Session, actor: Subject, user: User) -> User:
    return update_user(
        session,
        actor,
        user,
        name=user.name,
        role=user.role,
        scopes=[ScopeChoice(s.kind, s.ref_id) for s in user.scopes],
        active=False,
    )


def list_users(session: Session, actor: Subject) -> list[User]:
    policy.require(actor, Action.ADMIN)
    return list(session.scalars(select(User).order_by(User.name)))
