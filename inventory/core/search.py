"""Substring search on a table's folded ``search_text`` column, served by an index on both
engines, so that searching 50,000 schools costs about what searching 1,000 does.

- PostgreSQL: a trigram GIN index (``pg_trgm``), which serves ``LIKE '%word%'`` as is.
- SQLite: an FTS5 table with the trigram tokenizer over the same column, kept current by
  triggers; ``MATCH`` gives the rowids of the rows holding every word.

Trigrams need words of three characters or more: shorter words are matched with ``LIKE``
on the rows the longer words selected. Results are the same on both engines.

The index lives outside the models (the ORM has no notion of either), so migrations create
it with :func:`create_index_sql` and Alembic's comparison skips it (:func:`is_search_index`).
A batch migration that rebuilds the table on SQLite drops its triggers: run the creation
again after it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, column, literal_column, select, table
from sqlalchemy.orm import Session

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


def is_search_index(name: str | None) -> bool:
    """Whether a table or index name is one of these indexes or their FTS5 shadow tables."""
    return bool(name) and ("_search_" in name or name.endswith("_search"))  # type: ignore[operator]


def compared(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's ``include_name`` hook: compare the models with everything but these."""
    return not (type_ in ("table", "index") and is_search_index(name))


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def matches(session: Session, model: Any, query: str) -> list[ColumnElement[bool]]:
    """Conditions selecting the rows of ``model`` whose search text holds every word."""
    words = fold(query).split()
    long = [w for w in words if len(w) >= TRIGRAM]
    conditions: list[ColumnElement[bool]] = []
    if long and session.get_bind().dialect.name == "sqlite":
        fts = _fts(model.__tablename__)
        hits = (
            select(column("rowid"))
            .select_from(table(fts))
            .where(literal_column(fts).op("MATCH")(" ".join(_quoted(w) for w in long)))
        )
        conditions.append(model.id.in_(hits))
        words = [w for w in words if len(w) < TRIGRAM]
    conditions += [model.search_text.contains(w, autoescape=True) for w in words]
    return conditions
