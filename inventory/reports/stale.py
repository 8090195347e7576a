"""Which schools' summaries a business change makes stale, and which schools a mark names.

Registered once at start-up with :mod:`inventory.core.derived`: after each flush, every new,
changed or deleted object of the models below writes stale marks in the same transaction,
and rows inserted outside the unit of work (bulk writes) mark from their columns. A mark
names a school, or something whose schools are found when the summaries are refreshed
(an item, a dossier, an expense, a collectivité, a département), or every school.

Money is shared among a dossier's schools (its aid is capped and split per dossier), so a
change to any grant record marks the whole dossier.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import CompoundSelect, Select, select, union
from sqlalchemy.orm import Session

from inventory.assets.models import (
    Asset,
    EquipmentModel,
    NetworkWork,
    Referentiel,
    SocleRequirement,
    StatusChange,
)
from inventory.core import derived
from inventory.core.derived import Mark
from inventory.grants.models import (
    Dossier,
    DossierSchool,
    Expense,
    ExpenseAllocation,
    FundingLink,
    Payment,
)
from inventory.helpdesk.models import Ticket
from inventory.orgs.models import Classroom, Ecole

SCHOOL = "summary.school"
ASSET = "summary.asset"
DOSSIER = "summary.dossier"
EXPENSE = "summary.expense"
COLLECTIVITE = "summary.collectivite"
DEPARTEMENT = "summary.departement"
KINDS = (SCHOOL, ASSET, DOSSIER, EXPENSE, COLLECTIVITE, DEPARTEMENT)
EVERY_SCHOOL: Mark = (SCHOOL, None)


def _now_and_before(obj: Any, attr: str, kind: str) -> Iterator[Mark]:
    """The value ``attr`` has and the one it had before this flush (a move leaves a school
    and reaches another: both change)."""
    value = getattr(obj, attr, None)
    if value is not None:
        yield kind, value
    for old in derived.before(obj, attr):
        yield kind, old


def _by(attr: str, kind: str, *more: tuple[str, str]) -> derived.Marker:
    def marker(obj: Any, change: str) -> Iterable[Mark]:
        out = list(_now_and_before(obj, attr, kind))
        for a, k in more:
            out.extend(_now_and_before(obj, a, k))
        return out

    return marker


def _school(obj: Any, change: str) -> Iterable[Mark]:
    # A deleted school's row goes with it (ON DELETE CASCADE): its département's sum is
    # what is left to compute again.
    if change == derived.DELETE:
        return [
            (DEPARTEMENT, obj.departement_id),
            *_now_and_before(obj, "departement_id", DEPARTEMENT),
        ]
    return [(SCHOOL, obj.id)]


def _dossier(obj: Any, change: str) -> Iterable[Mark]:
    # A deleted dossier's schools are gone with it: its collectivité's schools are marked.
    if change == derived.DELETE:
        return [(COLLECTIVITE, obj.collectivite_id)]
    return [(DOSSIER, obj.id)]


def _every_school(obj: Any, change: str) -> Iterable[Mark]:
    return [EVERY_SCHOOL]


def _register() -> None:
    on_school = {"ecole_id": SCHOOL}
    # Items, tickets, classrooms and works count at their school; new ones (by the ORM or
    # in bulk) are seen as rows.
    for model in (Asset, Ticket, Classroom, NetworkWork):
        derived.watch(model, _by("ecole_id", SCHOOL))
        derived.watch_rows(model.__table__, on_school, model)
    derived.watch(StatusChange, _by("asset_id", ASSET))
    derived.watch_rows(StatusChange.__table__, {"asset_id": ASSET}, StatusChange)
    derived.watch(FundingLink, _by("asset_id", ASSET, ("expense_id", EXPENSE)))
    derived.watch_rows(
        FundingLink.__table__, {"asset_id": ASSET, "expense_id": EXPENSE}, FundingLink
    )
    # A new school has no row yet and adds to its département's.
    derived.watch(Ecole, _school)
    derived.watch_rows(Ecole.__table__, {"departement_id": DEPARTEMENT}, Ecole)
    derived.watch(Dossier, _dossier)
    derived.watch(DossierSchool, _by("dossier_id", DOSSIER, ("ecole_id", SCHOOL)))
    derived.watch(Expense, _by("dossier_id", DOSSIER))
    derived.watch(ExpenseAllocation, _by("expense_id", EXPENSE, ("ecole_id", SCHOOL)))
    derived.watch(Payment, _by("dossier_id", DOSSIER))
    # A model's capabilities, a requirement, a référentiel: every classroom's socle. (A new
    # model counts nowhere yet; a new requirement asks more of every classroom.)
    derived.watch(SocleRequirement, _every_school)
    for catalogue in (EquipmentModel, Referentiel):
        derived.watch(catalogue, _every_school_unless_new)


def _every_school_unless_new(obj: Any, change: str) -> Iterable[Mark]:
    return [] if change == derived.CREATE else [EVERY_SCHOOL]


_register()


# -- what the marks name ---------------------------------------------------------------------
def schools_named(session: Session, marks: Sequence[Mark]) -> set[int] | None:
    """The schools the marks name (None: every school)."""
    keys: dict[str, set[int]] = {kind: set() for kind in KINDS}
    for kind, key in marks:
        if kind not in keys:
            continue
        if key is None:
            return None
        keys[kind].add(key)
    parts: list[Select[Any]] = []
    if keys[ASSET]:
        parts.append(select(Asset.ecole_id).where(Asset.id.in_(keys[ASSET])))
    named = select(Dossier.id).where(Dossier.id.in_(keys[DOSSIER]))
    dossiers: Select[int] | CompoundSelect[int] = named
    if keys[EXPENSE]:
        dossiers = named.union(select(Expense.dossier_id).where(Expense.id.in_(keys[EXPENSE])))
    if keys[DOSSIER] or keys[EXPENSE]:
        parts.append(select(DossierSchool.ecole_id).where(DossierSchool.dossier_id.in_(dossiers)))
        # Items funded by the dossiers' expenses count as funded at their schools.
        parts.append(
            select(Asset.ecole_id)
            .join(FundingLink, FundingLink.asset_id == Asset.id)
            .join(Expense, Expense.id == FundingLink.expense_id)
            .where(Expense.dossier_id.in_(dossiers))
        )
    if keys[COLLECTIVITE]:
        parts.append(select(Ecole.id).where(Ecole.collectivite_id.in_(keys[COLLECTIVITE])))
    if keys[DEPARTEMENT]:
        parts.append(select(Ecole.id).where(Ecole.departement_id.in_(keys[DEPARTEMENT])))
    schools = set(keys[SCHOOL])
    if parts:
        schools.update(v for v in session.scalars(union(*parts)) if v is not None)
    return schools


def departements_named(marks: Sequence[Mark]) -> set[int]:
    """The départements marks name directly (a deleted school's)."""
    return {key for kind, key in marks if kind == DEPARTEMENT and key is not None}
