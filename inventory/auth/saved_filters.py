"""A user's saved filters: the filters of a list kept under a name, listed beside it,
applied in one click, deleted. Each is its owner's alone (others get 404)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.auth.models import SavedFilter, User
from inventory.core import policy
from inventory.core.errors import DomainError

# The lists whose filters can be saved (the views know their addresses).
LISTS = ("equipment", "works", "tickets", "schools")
# What places a list's page rather than choosing its rows: never saved.
NOT_SAVED = frozenset({"page", "after", "before", "csrf_token", "filter_name"})
NAME_LENGTH = 80
QUERY_LENGTH = 1000
PER_LIST = 50


class SavedFilterError(DomainError):
    pass


def clean_query(query: str) -> str:
    """The filters of a query string, without its paging or empty values, in one
    spelling (so that the same filters saved twice read the same)."""
    pairs = [(k, v) for k, v in parse_qsl(query or "") if v and k not in NOT_SAVED]
    return urlencode(pairs)


def save_filter(
    session: Session, user: User, *, list_name: str, name: str, query: str
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


def filters_of(session: Session, user: User, list_name: str) -> list[SavedFilter]:
    """The user's own saved filters of a list, by name."""
    stmt = (
        select(SavedFilter)
        .where(SavedFilter.user_id == user.id, SavedFilter.list_name == list_name)
        .order_by(SavedFilter.name, SavedFilter.id)
    )
    return list(session.scalars(stmt))


def delete_filter(session: Session, user: User, filter_id: int) -> SavedFilter:
    """Delete one of the user's saved filters; anyone else's is not found (404)."""
    saved = session.get(SavedFilter, filter_id)
    if saved is None or saved.user_id != user.id:
        raise policy.Denied()
    session.delete(saved)
    session.commit()
    return saved
