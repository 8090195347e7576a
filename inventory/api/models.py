"""Personal API tokens: only a hash of the secret is kept."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.auth.models import User
from inventory.core.audit import Audited
from inventory.core.db import Base, UTCDateTime, str_enum, utcnow


class TokenScope(enum.StrEnum):
    READ = "read"
    WRITE = "write"


class ApiToken(Audited, Base):
    """A secret a script sends as ``Authorization: Bearer …`` to act as its owner.

    The secret is shown once; the table keeps its SHA-256 (the secret is 256 random bits,
    so a plain hash is enough) and a prefix to recognise it. Its creation and revocation
    go to the change log, its use (last_used_*) does not."""

    __tablename__ = "api_tokens"
    __audit_exclude__ = frozenset({"search_text", "secret_hash", "last_used_at", "last_used_ip"})
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(20))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[TokenScope] = mapped_column(str_enum(TokenScope, "api_token_scope"))
    # The networks it may be used from, as typed (one per line or comma); empty: anywhere.
    networks: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_ip: Mapped[str | None] = mapped_column(String(45))
    user: Mapped[User] = relationship(lazy="joined")

    @property
    def writes(self) -> bool:
        return self.scope is TokenScope.WRITE
