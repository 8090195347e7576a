"""The directory behind the suppliers typed on items: a name typed on a new or edited item
(or imported) is its collectivité's entry of that name, letter case and spaces aside, or
a new entry of that name, written in the item's transaction (the directory never falls
behind the items). Registered at start-up as the equipment domain's directory
(:mod:`inventory.assets.supplier_link`), which comes before this domain and cannot call it."""

from __future__ import annotations

from collections.abc import Collection

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.assets.supplier_link import name_key, register_directory
from inventory.suppliers.models import Supplier
from inventory.suppliers.rules import clean


def find_or_create(
    session: Session, names: Collection[tuple[int, str]]
) -> dict[tuple[int, str], int]:
    """The entry of each (collectivité id, typed name): one query reads the collectivités'
    directories, the missing names are added (through the unit of work: change-logged)."""
    wanted = {(c, n) for c, n in names if clean(n)}
    if not wanted:
        return {}
    known: dict[tuple[int, str], int] = {}
    for supplier_id, collectivite_id, name in session.execute(
        select(Supplier.id, Supplier.collectivite_id, Supplier.name)
        .where(Supplier.collectivite_id.in_(sorted({c for c, _ in wanted})))
        .order_by(Supplier.id)
    ):
        known.setdefault((collectivite_id, name_key(name)), supplier_id)
    created: dict[tuple[int, str], Supplier] = {}
    for collectivite_id, typed in sorted(wanted):
        key = (collectivite_id, name_key(typed))
        if key not in known and key not in created:
            created[key] = Supplier(collectivite_id=collectivite_id, name=clean(typed)[:150])  # type: ignore[index]
            session.add(created[key])
    if created:
        session.flush()
    known.update({key: s.id for key, s in created.items()})
    return {(c, n): known[(c, name_key(n))] for c, n in wanted}


def init_app(_app: Flask) -> None:
    register_directory(find_or_create)
