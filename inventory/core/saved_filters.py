"""A user's saved filters: the filters of a list kept under a name, listed beside it,
applied in one click, deleted. Each is its owner's alone (others get 404).

In core because every domain's lists offer them (a list names itself by one of
:data:`LISTS`); the routes that save and delete them are the accounts' (auth.views)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from urllib.parse import parse_qsl, urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, UniqueConstraint, false, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from inventory.core import policy
from inventory.core.audit import Audited
from inventory.core.db import Base, UTCDateTime, utcnow
from inventory.core.errors import DomainError

# The lists whose filters can be saved (the views know their addresses).
LISTS = ("equipment", "works", "tickets", "schools", "dossiers", "training")
# What places a list's page rather than choosing its rows: never saved.
NOT_SAVED = frozenset({"page", "after", "before", "csrf_token", "filter_name"})
NAME_LENGTH = 80
QUERY_LENGTH = 1000
PER_LIST = 50


class SavedFilterError(DomainError):
    pass


class Owner(Protocol):
    """The user whose filters they are (an account: auth.models.User)."""

    @property
    def id(self) -> int: ...


class SavedFilter(Audited, Base):
    """A user's filters of a list saved under a name: the list's query string (its
    filters and order, not its page), to apply again in one click. Their owner's only:
    nobody else lists, applies or deletes them, administrators included."""

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "list_name", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Which list: a name of LISTS.
    list_name: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def audit_label(self) -> str:
        return self.name


# Saved filters are answered by owner (below), never through a scope.
policy.register(SavedFilter, lambda scope: false())


def clean_query(query: str) -> str:
    """The filters of a query string, without its paging or empty values, in one
    spelling (so that the same filters saved twice read the same)."""
    pairs = [(k, v) for k, v in parse_qsl(query or "") if v and k not in NOT_SAVED]
    return urlencode(pairs)


def save_filter(
    session: Session, user: Owner, *, list_name: str, name: str, query: str
) -> SavedFilter:
    """Keep ``query``'s filters of ``list_name`` under ``name``, for ``user`` alone."""
    if list_name not in LISTS:
        raise SavedFilterError(_l("These filters belong to no list."), field="list_name")
    name = " ".join((name or "").split())
    if not name:
        raise SavedFilterError(_l("Give the filter a name."), field="name")
    if len(name) > NAME_LENGTH:
        raise SavedFilterError(
            _l("The name is at most %(count)s characters long.", count=NAME_LENGTH), "name"
        )
    cleaned = clean_query(query)
    if not cleaned:
        raise SavedFilterError(_l("Choose at least one filter before saving it."), "query")
    if len(cleaned) > QUERY_LENGTH:
        raise SavedFilterError(_l("These filters are too long to be saved."), field="query")
    mine = select(SavedFilter).where(
        SavedFilter.user_id == user.id, SavedFilter.list_name == list_name
    )
    if session.scalar(mine.where(SavedFilter.name == name)) is not None:
        raise SavedFilterError(
            _l("You already have a filter named «%(name)s» on this list.", name=name), "name"
        )
    count = session.scalar(select(func.count()).select_from(mine.subquery())) or 0
    if count >= PER_LIST:
        raise SavedFilterError(
            _l("At most %(count)s saved filters per list: delete one first.", count=PER_LIST),
            "name",
        )
    saved = SavedFilter(user_id=user.id, list_name=list_name, name=name, query=cleaned)
    session.add(saved)
    session.commit()
    return saved


def filters_of(session: Session, user: Owner, list_name: str) -> list[SavedFilter]:
    """The user's own saved filters of a list, by name."""
    stmt = (
        select(SavedFilter)
        .where(SavedFilter.user_id == user.id, SavedFilter.list_name == list_name)
        .order_by(SavedFilter.name, SavedFilter.id)
    )
    return list(session.scalars(stmt))


def delete_filter(session: Session, user: Owner, filter_id: int) -> SavedFilter:
    """Delete one of the user's saved filters; anyone else's is not found (404)."""
    saved = session.get(SavedFilter, filter_id)
    if saved is None or saved.user_id != user.id:
        raise policy.Denied()
    session.delete(saved)
    session.commit()
    return saved
