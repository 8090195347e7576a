"""Append-only change log, written by one session hook in the same transaction as the change.

Every model that mixes in :class:`Audited` gets a record per insert, update and delete,
holding who acted (set once per request or CLI command with :func:`acting_as`), from where,
and the changed fields before and after. A model also names the relationships whose
members belong in its record (``__audit_links__``, each shown as :class:`Linked` says):
their changes join the column changes of the same flush, in the same record.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from operator import attrgetter
from types import SimpleNamespace
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, event, inspect
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column
from sqlalchemy.orm.attributes import NO_VALUE

from inventory.core.db import Base, UTCDateTime, utcnow


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
    return str(value)


_KEYS: dict[type, tuple[str, ...]] = {}


def _audited_keys(obj: Audited) -> tuple[str, ...]:
    cls = type(obj)
    if cls not in _KEYS:
        _KEYS[cls] = tuple(
            a.key
            for a in inspect(cls).column_attrs
            if a.key not in obj.__audit_exclude__ and a.key != "id"
        )
    return _KEYS[cls]


def _column_changes(obj: Audited, action: AuditAction) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    if action is AuditAction.CREATE:
        # A new object's values are all in its __dict__ after the flush: read them directly,
        # an import creates thousands of these per batch.
        values = obj.__dict__
        for key in _audited_keys(obj):
            value = _plain(values.get(key))
            if value is not None:
                changes[key] = [None, value]
        return changes
    state = inspect(obj)
    for key in _audited_keys(obj):
        if action is AuditAction.DELETE:
            changes[key] = [_plain(state.attrs[key].loaded_value), None]
        else:
            hist = state.attrs[key].history
            if hist.has_changes():
                before = _plain(hist.deleted[0]) if hist.deleted else None
                after = _plain(hist.added[0]) if hist.added else None
                if before != after:
                    changes[key] = [before, after]
    return changes


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


def _record(obj: Audited, action: AuditAction, actor: Actor) -> dict[str, Any] | None:
    changes = _column_changes(obj, action)
    if obj.__audit_links__:
        changes.update(_link_changes(obj, action))
    if action is AuditAction.UPDATE and not changes:
        return None
    ecole_id, collectivite_id = obj.audit_scope
    return {
        "at": utcnow(),
        "actor_id": actor.user_id,
        "actor_label": actor.label,
        "ip": actor.ip,
        "action": action.value,
        "object_type": obj.__tablename__,  # type: ignore[attr-defined]
        "object_id": obj.id,  # type: ignore[attr-defined]
        "object_label": obj.audit_label,
        "ecole_id": ecole_id,
        "collectivite_id": collectivite_id,
        "changes": changes,
    }


def created_record(
    model: type[Audited], object_id: int | None, values: dict[str, Any], actor: Actor
) -> dict[str, Any]:
    """The record of a row inserted without the ORM (see core.bulk), from its values.

    The model's ``audit_scope`` and ``audit_label`` are read off the values, so a model
    whose properties follow relationships cannot be inserted that way; nor are its
    declared links logged (a row written in bulk has no relationship history)."""
    row = SimpleNamespace(**values, id=object_id)
    excluded = model.__audit_exclude__
    changes = {
        key: [None, _plain(value)]
        for key, value in values.items()
        if key not in excluded and key != "id" and value is not None
    }
    ecole_id, collectivite_id = model.audit_scope.fget(row)  # type: ignore[attr-defined]
    return {
        "at": utcnow(),
        "actor_id": actor.user_id,
        "actor_label": actor.label,
        "ip": actor.ip,
        "action": AuditAction.CREATE.value,
        "object_type": model.__tablename__,  # type: ignore[attr-defined]
        "object_id": object_id,
        "object_label": model.audit_label.fget(row),  # type: ignore[attr-defined]
        "ecole_id": ecole_id,
        "collectivite_id": collectivite_id,
        "changes": changes,
    }


_PLAIN_BY_TYPE: dict[type, Any] = {}
# json.dumps's text (the JSON column's), without its check for circular references: a
# change log's values hold none.
_ENCODE = json.JSONEncoder(check_circular=False).encode
# What it writes for a string (ensure_ascii, as json.dumps).
_encode_text = encode_basestring_ascii


def _plain_of(kind: type) -> Any:
    """What :func:`_plain` does to a value of this type, decided once per type."""
    if kind not in _PLAIN_BY_TYPE:
        if issubclass(kind, enum.Enum):
            convert: Any = _enum_value
        elif issubclass(kind, date):  # datetime included
            convert = kind.isoformat
        else:
            convert = _plain
        _PLAIN_BY_TYPE[kind] = convert
    return _PLAIN_BY_TYPE[kind]


# A member's value, read without the property Enum puts in front of it.
_enum_value = attrgetter("_value_")


class _Row:
    """A staged row's values read as attributes, for the model's audit properties."""

    __slots__ = ("id", "values")

    def __init__(self, object_id: int | None, values: dict[str, Any]) -> None:
        self.id = object_id
        self.values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def created_columns(
    model: type[Audited], rows: Iterable[Any], actor: Actor
) -> dict[str, list[Any]]:
    """:func:`created_record` for many rows of one model written in bulk (each with ``id``
    and ``values``), as the columns of the change log (a list of values each, in the order
    of ``rows``), their ``changes`` already serialised as the JSON column does it.

    The same records, made for an import's tens of thousands of rows: the changes are
    written column by column (:func:`_changes_texts`), the row's scope and label read off
    its values, the records share the moment of their write, and no record is built as a
    dict of its own (the bulk insert takes columns)."""
    rows = list(rows)
    scope = model.audit_scope.fget  # type: ignore[attr-defined]
    label = model.audit_label.fget  # type: ignore[attr-defined]
    views = [_Row(row.id, row.values) for row in rows]
    scopes = list(map(scope, views))
    n = len(rows)
    return {
        "at": [utcnow()] * n,
        "actor_id": [actor.user_id] * n,
        "actor_label": [actor.label] * n,
        "ip": [actor.ip] * n,
        "action": [AuditAction.CREATE.value] * n,
        "object_type": [model.__tablename__] * n,  # type: ignore[attr-defined]
        "object_id": [row.id for row in rows],
        "object_label": list(map(label, views)),
        "ecole_id": [s[0] for s in scopes],
        "collectivite_id": [s[1] for s in scopes],
        "changes": _changes_texts([row.values for row in rows], model.__audit_exclude__ | {"id"}),
    }


def created_records(
    model: type[Audited], rows: Iterable[Any], actor: Actor
) -> list[dict[str, Any]]:
    """:func:`created_columns`, a record (a dict) per row."""
    columns = created_columns(model, rows, actor)
    return [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]


def _changes_texts(rows: list[dict[str, Any]], excluded: frozenset[str]) -> list[str]:
    """For each row, the JSON text of its changes as created (``{key: [null, value]}`` for
    each value not None, outside ``excluded``), exactly as json.dumps writes them.

    Written column by column: a column's members are written as ``"key": [null, value], ``
    in one pass, each distinct date, moment or enum member once (an import's rows share
    them), then each row joins its members (an empty text for a value None) and drops the
    last separator."""
    texts = [""] * len(rows)
    by_keys: dict[tuple[str, ...], list[int]] = {}
    for i, values in enumerate(rows):
        by_keys.setdefault(tuple(values), []).append(i)
    for keys, positions in by_keys.items():
        members = [
            _members(_ENCODE(key) + ": [null, ", [rows[i][key] for i in positions])
            for key in keys
            if key not in excluded
        ]
        for i, row_members in zip(positions, zip(*members, strict=True), strict=True):
            texts[i] = "{" + "".join(row_members)[:-2] + "}"
    return texts


def _members(head: str, values: list[Any]) -> list[str]:
    """``head`` + the JSON of each value + ``], ``; an empty text for a value None."""
    kinds = set(map(type, values)) - {type(None)}
    if kinds <= {str} or kinds <= {int}:
        write = _encode_text if kinds == {str} else int.__repr__
        return ["" if v is None else head + write(v) + "], " for v in values]
    written: dict[Any, str] = {}
    if len(kinds) == 1:
        (kind,) = kinds
        convert = _plain_of(kind)
        # One kind (and one time zone): equal values print alike.
        if not issubclass(kind, datetime) or len({v.tzinfo for v in values if v}) == 1:
            return [
                ""
                if v is None
                else (written.get(v) or written.setdefault(v, head + _ENCODE(convert(v)) + "], "))
                for v in values
            ]
    out: list[str] = []
    for v in values:
        if v is None:
            out.append("")
            continue
        seen = (v, type(v), getattr(v, "tzinfo", None))
        member = written.get(seen)
        if member is None:
            member = written[seen] = head + _ENCODE(_plain_of(type(v))(v)) + "], "
        out.append(member)
    return out


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
        session.connection().execute(AuditRecord.__table__.insert(), rows)


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
