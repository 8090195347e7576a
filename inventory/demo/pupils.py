"""Pupils per classroom for the demo collectivité, borrowed from another département.

The shipped effectifs extract (``data/ecoles-effectifs-035-extract.csv``) is of
Ille-et-Vilaine (035): none of its schools is in Val-de-Marne. So that the demo's
classrooms have levels and pupils, each school of the demo collectivité takes, in a fixed
order (schools by UAI, the file's rows in their order, each nature from the rows of the
same nature), the classes and pupils of one 035 school, and the file is imported through
the real importer (:func:`inventory.orgs.effectifs.import_effectifs`) with the UAIs
rewritten. These are *not* the real figures of the 094 schools: the demo says so.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.orgs.effectifs import import_effectifs
from inventory.orgs.models import Collectivite, Ecole, SchoolNature
from inventory.paths import ROOT

DEMO_EFFECTIFS = ROOT / "data" / "ecoles-effectifs-035-extract.csv"
UAI_COLUMN = "Numéro de l'école"
NAME_COLUMN = "Dénomination principale"


def _nature_of(row: dict[str, str]) -> SchoolNature:
    name = row.get(NAME_COLUMN, "").upper()
    if "MATERNELLE" in name:
        return SchoolNature.MATERNELLE
    if "ELEMENTAIRE" in name or "ÉLÉMENTAIRE" in name:
        return SchoolNature.ELEMENTAIRE
    return SchoolNature.PRIMAIRE


def borrowed_effectifs(session: Session, town: Collectivite) -> tuple[bytes, dict[str, str]]:
    """The 035 file rewritten for the town's schools: (CSV bytes, 094 UAI → 035 UAI)."""
    text = DEMO_EFFECTIFS.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    fieldnames = list(reader.fieldnames or [])
    rows = list(reader)
    year = max(r["Rentrée scolaire"] for r in rows)
    pools: dict[SchoolNature, list[dict[str, str]]] = {n: [] for n in SchoolNature}
    for row in rows:
        if row["Rentrée scolaire"] == year:
            pools[_nature_of(row)].append(row)
    used = dict.fromkeys(SchoolNature, 0)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fieldnames, delimiter=";", lineterminator="\n")
    writer.writeheader()
    borrowed: dict[str, str] = {}
    schools = session.scalars(
        select(Ecole).where(Ecole.collectivite_id == town.id).order_by(Ecole.uai)
    )
    for ecole in schools:
        pool = pools[ecole.nature] or pools[SchoolNature.PRIMAIRE]
        source = pool[used[ecole.nature] % len(pool)]
        used[ecole.nature] += 1
        borrowed[ecole.uai] = source[UAI_COLUMN]
        writer.writerow({**source, UAI_COLUMN: ecole.uai})
    return out.getvalue().encode("utf-8"), borrowed


def load_pupils(session: Session, town: Collectivite) -> Iterator[str]:
    data, borrowed = borrowed_effectifs(session, town)
    report = import_effectifs(session, data, f"effectifs-035-pour-{town.name}.csv")
    yield (
        f"Pupils per classroom of {town.name}'s {len(borrowed)} schools BORROWED from the "
        f"Ille-et-Vilaine (035) extract {DEMO_EFFECTIFS.name}, one 035 school per 094 school "
        f"in UAI order (not the real figures of these schools): {report.summary()}"
    )
