"""Accounts and the scopes they work on."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.core import policy
from inventory.core.audit import Audited
from inventory.core.db import Base, UTCDateTime, str_enum, utcnow
from inventory.core.policy import Role, Scope, ScopeKind


class User(Audited, UserMixin, Base):
    """A person who signs in. Never deleted: the change log names them."""

    __tablename__ = "users"
    __audit_exclude__ = frozenset(
        {"password_hash", "last_login_at", "last_login_via", "session_token"}
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changes when the password changes, so that old sessions and reset links die.
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How the last sign-in was made: "password", or the identity provider's button label.
    last_login_via: Mapped[str | None] = mapped_column(String(100))
    scopes: Mapped[list[UserScope]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: ties the session to the current password
        return f"{self.id}:{self.session_token}"

    @property
    def scope(self) -> Scope:
        if self.role is Role.ADMIN:
            return Scope(everything=True)
        ids: dict[ScopeKind, set[int]] = {}
        for s in self.scopes:
            ids.setdefault(s.kind, set()).add(s.ref_id)
        return Scope(ids={k: frozenset(v) for k, v in ids.items()})


class UserScope(Audited, Base):
    """One piece of a user's scope: a collectivité, académie, département or circonscription."""

    __tablename__ = "user_scopes"
    __table_args__ = (UniqueConstraint("user_id", "kind", "ref_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ScopeKind] = mapped_column(str_enum(ScopeKind, "scope_kind"))
    ref_id: Mapped[int] = mapped_column(Integer)
    user: Mapped[User] = relationship(back_populates="scopes")

    @property
    def audit_label(self) -> str:
        return f"{self.kind.value}:{self.ref_id}"


# Accounts are visible to administrators only (their scope is everything).
policy.register(User, lambda scope: false())
policy.register(UserScope, lambda scope: false())
