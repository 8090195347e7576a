"""How the change log reads in the words of its users: each model's name, its fields'
labels and how their values are shown, declared once and used by every page and file
that shows a change (the history panels, the journal, its export, the evidence pack).

The change log stores a table's name and ``{field: [before, after]}`` in plain values
(codes, ISO dates, cents, ids). The change log comes before the domains and may not
import them, so each domain declares its models here at start-up (:func:`describe`), as it
registers its panels; :func:`readable` then turns a page of records into sentences:
labels, translated codes, euros, dates in the application's time zone (Europe/Paris),
yes/no, and the referenced objects' names, read in one query per referenced table for the
whole page. A field or a model nobody described (an old record's) shows as it is stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from babel.numbers import parse_pattern
from flask_babel import format_date, format_datetime, format_decimal, get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, Numeric, inspect, select
from sqlalchemy.orm import Session

from inventory.core.audit import AuditRecord
from inventory.core.db import Base

TEXT = "text"
NUMBER = "number"
MONEY = "money"
DATE = "date"
DATETIME = "datetime"
BOOL = "bool"
ENUM = "enum"
REF = "ref"
# Personal data: whatever a record holds (a value of a record written before the column
# was private, or the audit's HIDDEN), the page tells only that there was one.
PRIVATE = "private"
KINDS = frozenset({TEXT, NUMBER, MONEY, DATE, DATETIME, BOOL, ENUM, REF, PRIVATE})
NONE = "—"

Show = str | Callable[[Any], Any]


@dataclass(frozen=True)
class Field:
    """One field's label and the kind of its values. ``kind`` None: read off the model's
    column (``*_cents`` integers are money, dates, timestamps, booleans, foreign keys).
    ``labels``: an enum's codes and their (lazily translated) names; ``ref``: the table a
    foreign key points at, when the column does not say."""

    label: Any
    kind: str | None = None
    labels: Mapping[Any, Any] | None = None
    ref: str | None = None

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}")
        if self.labels is not None:  # looked up by the stored code (an enum's value)
            object.__setattr__(self, "labels", {str(k): v for k, v in self.labels.items()})


@dataclass(frozen=True)
class Description:
    table: str
    label: Any
    fields: Mapping[str, Field]
    model: type | None = None
    show: Show | None = None  # how a reference to one of its rows is named
    journal: bool = True  # offered as a type in the journal's filter

    def name_of(self, obj: Any) -> str:
        if self.show is None:
            value = getattr(obj, "audit_label", None)
        elif isinstance(self.show, str):
            value = getattr(obj, self.show, None)
        else:
            value = self.show(obj)
        return str(value) if value not in (None, "") else f"#{obj.id}"


_DESCRIPTIONS: dict[str, Description] = {}


def _inferred(model: type, name: str, given: Field) -> Field:
    """``given`` with its kind (and referenced table) read off ``model``'s column."""
    if given.kind is not None and (given.kind != REF or given.ref):
        return given
    if given.labels is not None:
        return Field(given.label, ENUM, given.labels)
    columns: Any = inspect(model).columns
    column = columns.get(name)
    if column is None:
        return Field(given.label, given.kind or TEXT)
    fks: Sequence[ForeignKey] = list(column.foreign_keys)
    if fks:
        return Field(given.label, REF, ref=fks[0].column.table.name)
    kind = TEXT
    column_type = column.type
    impl = getattr(column_type, "impl", column_type)
    if isinstance(impl, Boolean):
        kind = BOOL
    elif isinstance(impl, DateTime):
        kind = DATETIME
    elif isinstance(impl, Date):
        kind = DATE
    elif isinstance(impl, Integer) and name.endswith("_cents"):
        kind = MONEY
    elif isinstance(impl, Integer | Numeric):
        kind = NUMBER
    return Field(given.label, kind)


def describe(
    model: type,
    label: Any,
    fields: Mapping[str, Field | Any],
    *,
    show: Show | None = None,
    journal: bool = True,
) -> Description:
    """Declare how ``model``'s changes read: its name (``label``), its fields' labels and
    kinds (a plain label stands for ``Field(label)``), and ``show``: how a reference to
    one of its rows is named (an attribute or a function; its ``audit_label`` if None).
    Declaring a model again (the application is created once per test) replaces it."""
    table = model.__tablename__  # type: ignore[attr-defined]
    declared = {
        name: _inferred(model, name, f if isinstance(f, Field) else Field(f))
        for name, f in fields.items()
    }
    if "version" not in declared and "version" in inspect(model).columns:
        declared["version"] = Field(_l("Version"), NUMBER)  # a Versioned model's counter
    described = Description(table, label, declared, model, show, journal)
    _DESCRIPTIONS[table] = described
    return described


def description(table: str) -> Description | None:
    return _DESCRIPTIONS.get(table)


def type_label(table: str) -> str:
    found = _DESCRIPTIONS.get(table)
    return str(found.label) if found else table


def object_types() -> list[tuple[str, str]]:
    """The journal's types: (table, its name), by name."""
    found = [(d.table, str(d.label)) for d in _DESCRIPTIONS.values() if d.journal]
    return sorted(found, key=lambda t: t[1].casefold())


def known_type(table: str) -> bool:
    """Whether ``table`` is a model's (described or not): the journal filters on it."""
    return _model_of(table) is not None


def _model_of(table: str) -> type | None:
    found = _DESCRIPTIONS.get(table)
    if found and found.model is not None:
        return found.model
    for mapper in Base.registry.mappers:
        if getattr(mapper.local_table, "name", None) == table:
            return mapper.class_
    return None


def matching_codes(text: str) -> set[str]:
    """The enum codes whose name, in the current language, contains ``text``: a search
    for "en réparation" finds the records that store "under_repair"."""
    wanted = text.casefold()
    return {
        str(code)
        for d in _DESCRIPTIONS.values()
        for f in d.fields.values()
        if f.labels
        for code, name in f.labels.items()
        if wanted in str(name).casefold()
    }


def matching_types(text: str) -> list[str]:
    wanted = text.casefold()
    return [d.table for d in _DESCRIPTIONS.values() if wanted in str(d.label).casefold()]


# -- showing values --------------------------------------------------------------------------
_MONEY = parse_pattern("#,##0.00")


def money(cents: Any) -> str:
    value = Decimal(int(cents)) / 100
    return _MONEY.apply(value, get_locale()) + "\u00a0€"


def _as_datetime(value: Any) -> datetime | None:
    try:
        found = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _yes_no(value: Any) -> str:
    return str(_l("yes") if value in (True, 1, "1", "true", "True") else _l("no"))


def _shown(f: Field, value: Any, names: Mapping[tuple[str, Any], str]) -> str:
    """One stored value as its field shows it; a value of an unexpected form as stored."""
    if value is None or value == "":
        return NONE
    if f.kind == PRIVATE:
        return str(_l("(personal data, not shown)"))
    try:
        if f.kind == ENUM and f.labels is not None and isinstance(value, list):
            return ", ".join(str(f.labels.get(str(v), v)) for v in value) or NONE
        if f.kind == ENUM and f.labels is not None:
            label = f.labels.get(str(value))
            return str(label) if label is not None else str(value)
        if f.kind == MONEY and isinstance(value, int | float | str) and not isinstance(value, bool):
            return money(value)
        if f.kind == DATE:
            return format_date(date.fromisoformat(str(value)[:10]), "medium")
        if f.kind == DATETIME:
            when = _as_datetime(value)
            return format_datetime(when, "short") if when else str(value)
        if f.kind == BOOL:
            return _yes_no(value)
        if f.kind == NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
            return format_decimal(value)
        if f.kind == REF and f.ref:
            return names.get((f.ref, value), f"#{value}")
    except (TypeError, ValueError, ArithmeticError):
        pass
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return _yes_no(value)
    return str(value)


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    before: str
    after: str

    def text(self) -> str:
        return gettext(
            "%(field)s: %(before)s → %(after)s",
            field=self.label,
            before=self.before,
            after=self.after,
        )


@dataclass(frozen=True)
class Entry:
    """A change-log record as it reads: its type's name and its changes, labelled."""

    record: AuditRecord
    type_label: str
    changes: list[Change] = field(default_factory=list)
    actor: str = ""  # who acted, by name when the account is known (else as recorded)

    def __getattr__(self, name: str) -> Any:  # the record's own columns
        return getattr(self.record, name)

    def summary(self) -> str:
        return " ; ".join(c.text() for c in self.changes)


def _fields_of(record: AuditRecord) -> list[tuple[str, Field, Any, Any]]:
    found = _DESCRIPTIONS.get(record.object_type)
    out = []
    for name, pair in (record.changes or {}).items():
        f = found.fields.get(name) if found else None
        before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        out.append((name, f or Field(name, TEXT), before, after))
    return out


def _names(session: Session, wanted: Mapping[str, set[Any]]) -> dict[tuple[str, Any], str]:
    """The names of the referenced rows: one query per referenced table."""
    names: dict[tuple[str, Any], str] = {}
    for table, ids in wanted.items():
        model = _model_of(table)
        keys = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
        if model is None or not keys:
            continue
        found = _DESCRIPTIONS.get(table) or Description(table, table, {})
        stmt: Any = select(model).where(model.id.in_(keys))  # type: ignore[attr-defined]
        for obj in session.scalars(stmt):
            names[(table, obj.id)] = found.name_of(obj)
    return names


def readable(session: Session, records: Iterable[AuditRecord]) -> list[Entry]:
    """``records`` as they read, the references of all of them named in one pass."""
    records = list(records)
    parsed = [(r, _fields_of(r)) for r in records]
    wanted: dict[str, set[Any]] = {}
    actors = {r.actor_id for r in records if r.actor_id is not None}
    if actors and "users" in _DESCRIPTIONS:
        wanted["users"] = set(actors)
    for _r, fields in parsed:
        for _name, f, before, after in fields:
            if f.kind == REF and f.ref:
                wanted.setdefault(f.ref, set()).update(v for v in (before, after) if v is not None)
    names = _names(session, wanted) if wanted else {}
    return [
        Entry(
            r,
            type_label(r.object_type),
            [
                Change(name, str(f.label), _shown(f, before, names), _shown(f, after, names))
                for name, f, before, after in fields
            ],
            names.get(("users", r.actor_id), r.actor_label),
        )
        for r, fields in parsed
    ]
