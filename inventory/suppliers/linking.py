"""The directory behind the suppliers typed on items: a name typed on a new or edited item
(or imported) is its collectivité's entry of that name, letter case and spaces aside, or
a new entry of that name, written in the item's transaction (the directory never falls
behind the items). Registered at start-up as the equipment domain's directory
(:mod:`inventory.assets.supplier_link`), which comes before this domain and cannot call it."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.assets.supplier_link import name_key, register_directory
from inventory.core.db import utcnow
from inventory.core.find_or_add import find_or_add
from inventory.suppliers.models import Supplier
from inventory.suppliers.rules import clean


def find_or_create(
    session: Session, names: Collection[tuple[int, str]]
) -> dict[tuple[int, str], int]:
    """The entry of each (collectivité id, typed name): one query reads the collectivités'
    directories, one statement adds the missing names with their change-log records.

    Written without the unit of work, and read without flushing it: the items being saved
    are flushed once, with their entry, so that each change reads as one record."""
    wanted = {(c, n) for c, n in names if clean(n)}
    if not wanted:
        return {}
    with session.no_autoflush:
        return _find_or_create(session, wanted)


def _find_or_create(session: Session, wanted: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    known: dict[tuple[int, str], int] = {}
    for supplier_id, collectivite_id, name in session.execute(
        select(Supplier.id, Supplier.collectivite_id, Supplier.name)
        .where(Supplier.collectivite_id.in_(sorted({c for c, _ in wanted})))
        .order_by(Supplier.id)
    ):
        known.setdefault((collectivite_id, name_key(name)), supplier_id)
    missing: dict[tuple[int, str], dict[str, Any]] = {}
    now = utcnow()
    for collectivite_id, typed in sorted(wanted):
        key = (collectivite_id, name_key(typed))
        if key not in known and key not in missing:
            name = (clean(typed) or "")[:150]
            missing[key] = {**_EMPTY, "collectivite_id": collectivite_id, "name": name}
            missing[key].update(version=1, created_at=now)
    if missing:
        # Another transaction may be adding the same names at this moment: theirs are
        # then read, not added twice.
        ids = find_or_add(session, Supplier, ("collectivite_id", "name"), [*missing.values()])
        known.update({(c, name_key(n)): i for (c, n), i in ids.items()})
    return {(c, n): known[(c, name_key(n))] for c, n in wanted}


# The optional columns of a new entry, all bound (None): one multi-row statement.
_EMPTY: dict[str, Any] = dict.fromkeys(("siret", "address", "phone", "email", "notes"))


def init_app(_app: Flask) -> None:
    register_directory(find_or_create)
