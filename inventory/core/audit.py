"""Append-only change log, written by one session hook in the same transaction as the change.

Every model that mixes in :class:`Audited` gets a record per insert, update and delete,
holding who acted (set once per request or CLI command with :func:`acting_as`), from where,
and the changed fields before and after. A model also names the relationships whose
members belong in its record (``__audit_links__``, each shown as :class:`Linked` says):
their changes join the column changes of the same flush, in the same record.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, event, inspect
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column
from sqlalchemy.orm.attributes import NO_VALUE

from inventory.core.db import Base, UTCDateTime, insert_rows, utcnow


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str
    ip: str | None = None


SYSTEM = Actor(None, "system")
_actor: ContextVar[Actor] = ContextVar("audit_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _actor.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def set_actor(actor: Actor) -> Token[Actor]:
    """Bind the actor for the rest of this context; reset it with :func:`unset_actor`."""
    return _actor.set(actor)


def unset_actor(token: Token[Actor]) -> None:
    _actor.reset(token)


@dataclass(frozen=True)
class Linked:
    """How the change log shows the members of one of a model's relationships.

    Each member is shown by ``show`` (an attribute name, such as ``"uai"``, or a function
    of the member), the texts sorted and joined by ``sep``; with ``count=True`` the log
    holds only how many there are, for members it should not name (people, say). An empty
    relationship is logged as None, like an empty column.
    """

    show: str | Callable[[Any], Any] | None = None
    sep: str = ", "
    count: bool = False

    def __post_init__(self) -> None:
        if (self.show is None) != self.count:
            raise ValueError("Linked shows the members (show) or counts them (count=True)")

    def text(self, members: Iterable[Any]) -> str | int | None:
        members = list(members)
        if not members:
            return None
        if self.count:
            return len(members)
        show = attrgetter(self.show) if isinstance(self.show, str) else self.show
        assert show is not None
        return self.sep.join(sorted(str(show(m)) for m in members))


class Audited:
    """Mixin: changes to this model are recorded in the change log.

    ``__audit_links__`` names the relationships whose members the record shows, and how
    (:class:`Linked`): adding, removing or replacing members through the relationship
    logs the members before and after, as a column's values, in the record of the flush
    that writes them. Members changed in place are their own business: a member whose
    changes matter is audited itself. A save spread over several flushes gets a record
    per flush: a service that loads a collection to replace it after setting columns
    (an autoflush) makes its changes under ``session.no_autoflush`` to keep one record."""

    __audit_exclude__: frozenset[str] = frozenset({"search_text"})
    # Personal data (a reporter's name or address): the record says that the column
    # changed, never its value (:data:`HIDDEN` stands for it), so that a later purge or
    # erasure of the row leaves nothing of it in the append-only log.
    __audit_private__: frozenset[str] = frozenset()
    __audit_links__: ClassVar[Mapping[str, Linked]] = {}

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        """(école id, collectivité id) the record belongs to, for scoping the log."""
        return None, None

    @property
    def audit_label(self) -> str:
        for attr in ("name", "email", "uai", "code"):
            value = getattr(self, attr, None)
            if value:
                return str(value)[:200]
        return f"#{getattr(self, 'id', '?')}"


class AuditAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class AuditRecord(Base):
    """One change to one business record. Never updated, never deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_ecole_at", "ecole_id", "at"),
        Index("ix_audit_log_collectivite_at", "collectivite_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(10))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int] = mapped_column(Integer)
    object_label: Mapped[str] = mapped_column(String(200))
    ecole_id: Mapped[int | None] = mapped_column(Integer)
    collectivite_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


#: What a record holds instead of a private column's value (see ``__audit_private__``).
HIDDEN = "***"


def _hide(cls: type[Audited], changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """``changes`` with the values of ``cls``'s private columns replaced by HIDDEN (a
    value set, cleared or changed stays told apart: None stays None)."""
    for key in cls.__audit_private__ & changes.keys():
        changes[key] = [None if v is None else HIDDEN for v in changes[key]]
    return changes


# Values stored as they are (checked by exact type: the common case, made fast).
SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    if type(value) in SCALAR_TYPES:  # most values: checked first, an import logs millions
        return value
    if value is NO_VALUE:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):  # a JSON list column (a subscription's events)
        return [_plain(v) for v in value]
    return str(value)


_KEYS: dict[type, tuple[str, ...]] = {}


def _audited_keys(cls: type[Audited]) -> tuple[str, ...]:
    """The columns a record of ``cls`` holds: all but the id and the excluded ones."""
    if cls not in _KEYS:
        _KEYS[cls] = tuple(
            a.key
            for a in inspect(cls).column_attrs
            if a.key not in cls.__audit_exclude__ and a.key != "id"
        )
    return _KEYS[cls]


def _created_changes(cls: type[Audited], values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """A new row's changes: each audited value given, from nothing."""
    changes: dict[str, list[Any]] = {}
    for key in _KEYS[cls] if cls in _KEYS else _audited_keys(cls):
        value = values.get(key)
        if value is None:
            continue
        if type(value) not in SCALAR_TYPES:  # an import logs millions: _plain only if needed
            value = _plain(value)
            if value is None:
                continue
        changes[key] = [None, value]
    return _hide(cls, changes) if cls.__audit_private__ else changes


def _column_changes(obj: Audited, action: AuditAction) -> dict[str, list[Any]]:
    if action is AuditAction.CREATE:
        # A new object's values are all in its __dict__ after the flush.
        return _created_changes(type(obj), obj.__dict__)
    changes: dict[str, list[Any]] = {}
    state = inspect(obj)
    for key in _audited_keys(type(obj)):
        if action is AuditAction.DELETE:
            changes[key] = [_plain(state.attrs[key].loaded_value), None]
        else:
            hist = state.attrs[key].history
            if hist.has_changes():
                before = _plain(hist.deleted[0]) if hist.deleted else None
                after = _plain(hist.added[0]) if hist.added else None
                if before != after:
                    changes[key] = [before, after]
    return _hide(type(obj), changes) if obj.__audit_private__ else changes


def _link_changes(obj: Audited, action: AuditAction) -> dict[str, list[Any]]:
    """The declared relationships whose members this flush changes, as text before and
    after. Read from the relationships' history: a collection never loaded has none, and
    costs no query."""
    changes: dict[str, list[Any]] = {}
    attrs = inspect(obj).attrs
    for key, linked in obj.__audit_links__.items():
        hist = attrs[key].history
        if action is AuditAction.UPDATE and not hist.has_changes():
            continue
        before = None
        if action is not AuditAction.CREATE:
            before = linked.text((*hist.unchanged, *hist.deleted))
        after = None
        if action is not AuditAction.DELETE:
            after = linked.text((*hist.unchanged, *hist.added))
        if before != after:
            changes[key] = [before, after]
    return changes


def _entry(
    action: AuditAction,
    model: type[Audited],
    view: Any,
    changes: dict[str, list[Any]],
    actor: Actor,
    at: datetime,
) -> dict[str, Any]:
    """The one record builder: the change log's row for ``changes`` to ``view`` (an
    object of ``model``, or a row's values read as one), the record's scope and label
    given by the model's audit properties."""
    ecole_id, collectivite_id = model.audit_scope.fget(view)  # type: ignore[attr-defined]
    return {
        "at": at,
        "actor_id": actor.user_id,
        "actor_label": actor.label,
        "ip": actor.ip,
        "action": action.value,
        "object_type": model.__tablename__,  # type: ignore[attr-defined]
        "object_id": view.id,
        "object_label": model.audit_label.fget(view),  # type: ignore[attr-defined]
        "ecole_id": ecole_id,
        "collectivite_id": collectivite_id,
        "changes": changes,
    }


def _record(obj: Audited, action: AuditAction, actor: Actor) -> dict[str, Any] | None:
    changes = _column_changes(obj, action)
    if obj.__audit_links__:
        changes.update(_link_changes(obj, action))
    if action is AuditAction.UPDATE and not changes:
        return None
    return _entry(action, type(obj), obj, changes, actor, utcnow())


class _Row:
    """A row's values read as attributes, for the model's audit properties."""

    __slots__ = ("id", "values")

    def __init__(self, object_id: int, values: Mapping[str, Any]) -> None:
        self.id = object_id
        self.values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def created_records(
    model: type[Audited], rows: Iterable[tuple[int, Mapping[str, Any]]], actor: Actor
) -> list[dict[str, Any]]:
    """The records of rows inserted in bulk (``(id, values)`` each), rather than by the
    session's unit of work: what the flush hook writes for the same new objects.

    The model's ``audit_scope`` and ``audit_label`` are read off the values, so a model
    whose properties follow relationships cannot be inserted that way; nor are its
    declared links logged (a row written in bulk has no relationship history)."""
    at = utcnow()
    return [
        _entry(
            AuditAction.CREATE,
            model,
            _Row(object_id, values),
            _created_changes(model, values),
            actor,
            at,
        )
        for object_id, values in rows
    ]


def log_created(
    session: Session, model: type[Audited], rows: Iterable[tuple[int, Mapping[str, Any]]]
) -> None:
    """Write the change-log records of rows inserted in bulk, in the session's transaction."""
    records = created_records(model, rows, current_actor())
    if records:
        insert_rows(session, AuditRecord.__table__, records)


@event.listens_for(Session, "after_flush")
def _write_change_log(session: Session, flush_context: Any) -> None:
    actor = current_actor()
    rows = []
    for objs, action in (
        (session.new, AuditAction.CREATE),
        (session.dirty, AuditAction.UPDATE),
        (session.deleted, AuditAction.DELETE),
    ):
        for obj in objs:
            if isinstance(obj, Audited):
                row = _record(obj, action, actor)
                if row:
                    rows.append(row)
    if rows:
        insert_rows(session.connection(), AuditRecord.__table__, rows)


@event.listens_for(Mapper, "mapper_configured")
def _check_links(mapper: Mapper[Any], cls: type) -> None:
    """A model's declared links must be relationships of it: say so at start-up."""
    if not issubclass(cls, Audited):
        return
    for key, linked in cls.__audit_links__.items():
        if key not in mapper.relationships:
            raise ArgumentError(f"{cls.__name__}.__audit_links__: {key!r} is no relationship")
        if not isinstance(linked, Linked):
            raise ArgumentError(f"{cls.__name__}.__audit_links__[{key!r}]: not a Linked")


@event.listens_for(AuditRecord, "before_update")
@event.listens_for(AuditRecord, "before_delete")
def _refuse_rewrite(mapper: Any, connection: Any, target: AuditRecord) -> None:
    raise PermissionError("the change log is append-only")
