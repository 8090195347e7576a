"""Substring search on a table's folded ``search_text`` column, served by an index on both
engines, so that searching 50,000 schools costs about what searching 1,000 does.

- PostgreSQL: a trigram GIN index (``pg_trgm``), which serves ``LIKE '%word%'`` as is.
- SQLite: an FTS5 table with the trigram tokenizer over the same column, kept current by
  triggers; ``MATCH`` gives the rowids of the rows holding every word.

Trigrams need words of three characters or more: shorter words are matched with ``LIKE``
on the rows the longer words selected. Results are the same on both engines.

:func:`condition` builds the test without a session: the engine is chosen when the
statement is compiled, so that filters built anywhere (a list, its export, its labels)
use the index of the database they run on.

The index lives outside the models (the ORM has no notion of either), so migrations create
it with :func:`create_index_sql` and Alembic's comparison skips it (:func:`is_search_index`).
A batch migration that rebuilds the table on SQLite drops its triggers: run the creation
again after it.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    and_,
    column,
    literal_column,
    select,
    table,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from inventory.core.text import fold

TRIGRAM = 3


def _fts(tablename: str) -> str:
    return f"{tablename}_search"


def _trgm_index(tablename: str) -> str:
    return f"ix_{tablename}_search_trgm"


def create_index_sql(dialect: str, tablename: str) -> list[str]:
    """The statements creating the search index of ``tablename`` (and filling it)."""
    if dialect == "postgresql":
        return [
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            f"CREATE INDEX {_trgm_index(tablename)} ON {tablename} "
            "USING gin (search_text gin_trgm_ops)",
        ]
    fts = _fts(tablename)
    add = f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);"
    remove = (
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
    )
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{tablename}', "
        "content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {tablename} BEGIN {add} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {tablename} BEGIN {remove} END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF search_text ON {tablename} "
        f"BEGIN {remove} {add} END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def drop_index_sql(dialect: str, tablename: str) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP INDEX IF EXISTS {_trgm_index(tablename)}"]
    fts = _fts(tablename)
    return [
        *(f"DROP TRIGGER IF EXISTS {fts}_{event}" for event in ("insert", "delete", "update")),
        f"DROP TABLE IF EXISTS {fts}",
    ]


def rebuilt_table_sql(dialect: str, tablename: str) -> list[str]:
    """The statements a migration runs after a batch operation on ``tablename``: SQLite
    rebuilt the table and dropped the triggers, so the index is made again; PostgreSQL
    altered the table in place and kept its index."""
    if dialect == "postgresql":
        return []
    return [*drop_index_sql(dialect, tablename), *create_index_sql(dialect, tablename)]


def is_search_index(name: str | None) -> bool:
    """Whether a table or index name is one of these indexes or their FTS5 shadow tables."""
    return name is not None and ("_search_" in name or name.endswith("_search"))


def compared(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's ``include_name`` hook: compare the models with everything but these."""
    return not (type_ in ("table", "index") and is_search_index(name))


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


class _Match(ColumnElement[bool]):
    """The rows of ``model`` whose search text holds every word (folded, non-empty)."""

    type = Boolean()
    # A predicate, not a boolean value: no "= 1" appended in a WHERE on SQLite.
    _is_implicitly_boolean = True
    # The words are compiled into the statement's text on SQLite: no caching of it.
    inherit_cache = False

    def __init__(self, model: Any, words: list[str], lead: bool) -> None:
        self.model = model
        self.words = words
        self.lead = lead


def _likes(model: Any, words: list[str]) -> list[ColumnElement[bool]]:
    return [model.search_text.contains(w, autoescape=True) for w in words]


# What pg_trgm makes trigrams of: runs of letters and digits.
_RUN = re.compile(rf"[^\W_]{{{TRIGRAM},}}")


def _trigram_likes(model: Any, words: list[str]) -> list[ColumnElement[bool]]:
    """The LIKEs of ``words`` for the trigram index, with a word of several runs of
    letters and digits ("mon-2021") looked up by its runs, then tested whole.

    pg_trgm pads a run next to another character as a word's start or end ("  2", " 20"
    for "-2021"), and such trigrams are in nearly every row (each tag's year): the index
    would read posting lists of millions of rows. The runs alone select a superset of the
    same rows at a fraction of the cost; the whole word, tested on an expression the
    index does not cover, keeps the result exact."""
    indexed: list[str] = []
    whole: list[str] = []
    for word in words:
        runs = _RUN.findall(word)
        if not runs or runs == [word]:
            indexed.append(word)
        else:
            indexed += [r for r in runs if r not in indexed]
            whole.append(word)
    text = model.search_text.concat("")
    return _likes(model, indexed) + [text.contains(w, autoescape=True) for w in whole]


@compiles(_Match)
def _compile_like(element: _Match, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL: the trigram GIN index serves these LIKEs as they are. Following another
    # index, the planner would still AND the trigram index's bitmap (tens of ms for a
    # common word) with the place's few thousand rows: testing an expression over the
    # column, which the index does not cover, keeps it to those rows.
    if element.lead:
        return compiler.process(and_(*_trigram_likes(element.model, element.words)), **kw)
    text = element.model.search_text.concat("")
    tests = [text.contains(w, autoescape=True) for w in element.words]
    return compiler.process(and_(*tests), **kw)


@compiles(_Match, "sqlite")
def _compile_fts(element: _Match, compiler: SQLCompiler, **kw: Any) -> str:
    model, words = element.model, element.words
    # Following another index, the few rows it gives are read anyway: testing their text
    # costs less than running the trigram match over the whole table.
    long = [w for w in words if len(w) >= TRIGRAM] if element.lead else []
    conditions: list[ColumnElement[bool]] = []
    if long:
        fts = _fts(model.__tablename__)
        hits = (
            select(column("rowid", Integer))
            .select_from(table(fts))
            .where(literal_column(fts).op("MATCH")(" ".join(_quoted(w) for w in long)))
        )
        conditions.append(model.id.in_(hits))
    conditions += _likes(model, [w for w in words if w not in long])
    return compiler.process(and_(*conditions), **kw)


def condition(model: Any, query: str, *, lead: bool = True) -> ColumnElement[bool]:
    """The rows of ``model`` whose search text holds every word of ``query`` (all rows
    when it has none). ``lead=False``: another condition of the query is narrower (a
    school's rows, say): SQLite then tests the text of the rows it gives."""
    words = fold(query).split()
    return _Match(model, words, lead) if words else true()


def index_keys(dialect: str, model: Any, query: str) -> tuple[Select[Any], Any] | None:
    """For a search that is a list's only condition: the ids of the matching rows read
    from the index alone (a select, and its key column), without the probe of each row
    that :func:`condition` costs (a third of the time of a common word). SQLite only,
    for words of three characters or more; None otherwise."""
    words = fold(query).split()
    if dialect != "sqlite" or not words or any(len(w) < TRIGRAM for w in words):
        return None
    fts = _fts(model.__tablename__)
    rowid = column("rowid", Integer)
    match = literal_column(fts).op("MATCH")(" ".join(_quoted(w) for w in words))
    return select(rowid).select_from(table(fts)).where(match), rowid


def indexed(query: str) -> bool:
    """Whether the index serves ``query``: it has a word of three characters or more.
    Shorter words alone are matched by reading every row's text."""
    return any(len(w) >= TRIGRAM for w in fold(query).split())


def matches(session: Session, model: Any, query: str) -> list[ColumnElement[bool]]:
    """Conditions selecting the rows of ``model`` whose search text holds every word."""
    return [condition(model, query)]
