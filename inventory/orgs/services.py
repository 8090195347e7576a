"""Registry rules and writes: school lists, classrooms, ownership, imports."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from inventory.core import policy, search
from inventory.core.errors import DomainError
from inventory.core.pagination import KeyedPage, Page, paginate, paginate_by_key
from inventory.core.policy import Action, Subject
from inventory.core.sorting import Sort, SortSpec, in_order_of
from inventory.core.text import fold
from inventory.orgs import identifiers as ids
from inventory.orgs.models import (
    LEVELS,
    Academie,
    Circonscription,
    Classroom,
    Collectivite,
    CollectiviteKind,
    Commune,
    Departement,
    Ecole,
    Ownership,
    SchoolNature,
)

PUPILS_PER_CLASS = {
    SchoolNature.MATERNELLE: 26,
    SchoolNature.ELEMENTAIRE: 23,
    SchoolNature.PRIMAIRE: 24,
}


# -- what the domains above the registry add to it ------------------------------------------
# A criterion of the school list that another domain defines (the equipment domain: the
# schools missing the socle), as a query of school ids, registered when the app starts.
SchoolCriterion = Callable[[], Select[Any]]
_SCHOOL_CRITERIA: dict[str, SchoolCriterion] = {}


def register_school_criterion(name: str, schools: SchoolCriterion) -> None:
    _SCHOOL_CRITERIA[name] = schools


@dataclass(frozen=True)
class SchoolGroup:
    """The schools of a collectivité or a circonscription, as their pages list them: what
    the panels of those pages are read for."""

    name: str
    ecoles: list[Ecole]
    counts: dict[int, int]  # classrooms per school
    collectivite_id: int | None = None


def school_group(
    session: Session, user: Subject, name: str, *, collectivite_id: int | None = None, **where: Any
) -> SchoolGroup:
    if collectivite_id is not None:
        where["collectivite_id"] = collectivite_id
    ecoles = schools_of(session, user, **where)
    counts = classroom_counts(session, [e.id for e in ecoles])
    return SchoolGroup(name, ecoles, counts, collectivite_id)


def school_search_text(uai: str, name: str, commune: str, postal_code: str | None) -> str:
    return fold(f"{uai} {name} {commune} {postal_code or ''}").strip()[:600]


# -- school list -------------------------------------------------------------------------
@dataclass(frozen=True)
class SchoolFilters:
    q: str = ""
    academie: int | None = None
    departement: int | None = None
    circonscription: int | None = None
    collectivite: int | None = None
    nature: SchoolNature | None = None
    # Only schools with a target classroom missing the socle numérique (needs a session).
    missing_socle: bool = False

    def apply(self, stmt: Select[Any], session: Session) -> Select[Any]:
        if self.q:
            stmt = stmt.where(*search.matches(session, Ecole, self.q))
        if self.academie:
            stmt = stmt.where(
                Ecole.departement_id.in_(
                    select(Departement.id).where(Departement.academie_id == self.academie)
                )
            )
        if self.departement:
            stmt = stmt.where(Ecole.departement_id == self.departement)
        if self.circonscription:
            stmt = stmt.where(Ecole.circonscription_id == self.circonscription)
        if self.collectivite:
            stmt = stmt.where(Ecole.collectivite_id == self.collectivite)
        if self.nature:
            stmt = stmt.where(Ecole.nature == self.nature)
        if self.missing_socle:
            # Equipment builds on the registry, not the other way round: the equipment
            # domain registers which schools miss the socle (register_school_criterion).
            stmt = stmt.where(Ecole.id.in_(_SCHOOL_CRITERIA["missing_socle"]()))
        return stmt


# The columns the school list sorts by; by name unless asked otherwise.
SCHOOL_SORT = SortSpec(
    columns={
        "name": Ecole.name,
        "uai": Ecole.uai,
        "commune": select(Commune.name).where(Commune.id == Ecole.commune_id).scalar_subquery(),
        "nature": in_order_of(Ecole.nature, SchoolNature),
    },
    id=Ecole.id,
    default="name",
)


def list_schools(
    session: Session,
    user: Subject,
    filters: SchoolFilters,
    page: int,
    per_page: int,
    sort: Sort | None = None,
) -> Page[Ecole]:
    """One page of the schools ``user`` may see, in ``sort``'s order (by name)."""
    sort = sort or SCHOOL_SORT.read(None)
    assert sort is not None  # the spec's default
    rows = policy.visible(user, select(Ecole), Ecole).options(selectinload(Ecole.commune))
    keys = policy.visible(user, filters.apply(select(Ecole.id), session), Ecole).order_by(
        *sort.order_by()
    )
    return paginate(session, rows, page, per_page, key_stmt=keys)


# Beyond this many schools a key-paged list says "more than" instead of counting them.
SCHOOL_COUNT_CAP = 10_000


def schools_by_key(
    session: Session,
    user: Subject,
    filters: SchoolFilters,
    per_page: int,
    after: int | None = None,
) -> KeyedPage[Ecole]:
    """The schools ``user`` may see, newest record first, a page after the school of id
    ``after`` (the API's cursor): key paging, the same cost at any depth."""
    rows = select(Ecole).options(selectinload(Ecole.commune))
    keys = policy.visible(user, filters.apply(select(Ecole.id), session), Ecole)
    return paginate_by_key(
        session, rows, keys, Ecole.id, per_page=per_page, cap=SCHOOL_COUNT_CAP, after=after
    )


@dataclass
class FilterChoices:
    academies: list[Academie]
    departements: list[Departement]
    circonscriptions: list[Circonscription]
    collectivites: list[Collectivite]


CHOICES_LIMIT = 300


def filter_choices(
    session: Session, user: Subject, filters: SchoolFilters | None = None
) -> FilterChoices:
    """The options of the school filters. Circonscriptions and collectivités are listed
    for the chosen département (or académie) only when the scope holds too many of them:
    a national scope has 35,000 collectivités, too many for a select."""
    filters = filters or SchoolFilters()

    def rows(model: type, order: Any, *where: Any, limit: int | None = None) -> list[Any]:
        stmt: Select[Any] = policy.visible(user, select(model).where(*where), model).order_by(order)
        return list(session.scalars(stmt.limit(limit) if limit else stmt))

    narrow: list[Any] = []
    if filters.departement:
        narrow = [Departement.id == filters.departement]
    elif filters.academie:
        narrow = [Departement.academie_id == filters.academie]
    depts = select(Departement.id).where(*narrow)
    places = []
    for model, selected in (
        (Circonscription, filters.circonscription),
        (Collectivite, filters.collectivite),
    ):
        within = model.departement_id.in_(depts)
        # Counting up to the limit on the index is cheap; loading rows only to drop them
        # (a national scope, a large département) is not.
        probe = policy.visible(user, select(model.id).where(within), model).limit(CHOICES_LIMIT + 1)
        if len(session.scalars(probe).all()) > CHOICES_LIMIT:
            found = rows(model, model.name, model.id == selected) if selected else []
        else:
            found = rows(model, model.name, within)
        places.append(found)
    return FilterChoices(
        academies=rows(Academie, Academie.name),
        departements=rows(
            Departement,
            Departement.code,
            *narrow[-1:] if filters.academie and not filters.departement else (),
        ),
        circonscriptions=places[0],
        collectivites=places[1],
    )


def school_detail(session: Session, user: Subject, ecole_id: int) -> Ecole:
    ecole = policy.load_or_404(user, Ecole, ecole_id, session)
    # Loaded now so that the template triggers no query.
    session.scalars(
        select(Ecole)
        .where(Ecole.id == ecole.id)
        .options(
            selectinload(Ecole.classrooms),
            selectinload(Ecole.ownerships).selectinload(Ownership.collectivite),
            selectinload(Ecole.commune),
            selectinload(Ecole.departement).selectinload(Departement.academie),
            selectinload(Ecole.circonscription),
            selectinload(Ecole.collectivite),
        )
    ).all()
    return ecole


def collectivite_detail(session: Session, user: Subject, collectivite_id: int) -> Collectivite:
    coll = policy.load_or_404(user, Collectivite, collectivite_id, session)
    # Loaded now so that the template triggers no query.
    session.scalars(
        select(Collectivite)
        .where(Collectivite.id == coll.id)
        .options(
            selectinload(Collectivite.commune),
            selectinload(Collectivite.members),
            selectinload(Collectivite.departement),
        )
    ).all()
    return coll


def schools_of(session: Session, user: Subject, **where: Any) -> list[Ecole]:
    stmt = (
        select(Ecole).filter_by(**where).options(selectinload(Ecole.commune)).order_by(Ecole.name)
    )
    return list(session.scalars(policy.visible(user, stmt, Ecole)))


def classroom_counts(session: Session, ecole_ids: list[int]) -> dict[int, int]:
    stmt = (
        select(Classroom.ecole_id, func.count())
        .where(Classroom.ecole_id.in_(ecole_ids))
        .group_by(Classroom.ecole_id)
    )
    return {ecole_id: n for ecole_id, n in session.execute(stmt)}


# -- classrooms ------------------------------------------------------------------------
def levels_for_classes(
    n_classes: int, per_level: dict[str, int]
) -> list[tuple[list[str], int | None]]:
    """Spread ``n_classes`` over the levels in proportion to their pupils.

    With at least as many classes as levels with pupils, each such level has a class of
    its own, and each further class goes to the level whose classes are the most crowded
    (most pupils per class; the earlier level on a tie), as a school opens its classes.
    With fewer classes than levels, neighbouring levels share a class (a 'cours double'),
    the levels spread evenly over the classes. Every pupil is in one class. Returns one
    (levels, pupils) pair per class, in level order.
    """
    if n_classes <= 0:
        return []
    levels = [(lv, n) for lv, n in per_level.items() if n > 0]
    if not levels:
        return [([], None) for _ in range(n_classes)]
    if n_classes < len(levels):
        groups: list[list[tuple[str, int]]] = [[] for _ in range(n_classes)]
        for i, item in enumerate(levels):
            groups[i * n_classes // len(levels)].append(item)
        return [([lv for lv, _ in g], sum(n for _, n in g)) for g in groups]
    counts = [1] * len(levels)
    for _ in range(n_classes - len(levels)):
        # Most pupils per class, compared without division: a/b > c/d ⇔ a·d > c·b.
        best = 0
        for k in range(1, len(levels)):
            if levels[k][1] * counts[best] > levels[best][1] * counts[k]:
                best = k
        counts[best] += 1
    plan: list[tuple[list[str], int | None]] = []
    for (lv, pupils), count in zip(levels, counts, strict=True):
        for j in range(count):
            plan.append(([lv], pupils // count + (1 if j < pupils % count else 0)))
    return plan


def estimate_classrooms(session: Session) -> int:
    """Give every school without classrooms an estimate, marked as such.

    The Annuaire has no class counts: use its pupil count when it has one, otherwise a
    stable figure drawn from the UAI within the usual range for the school's nature.
    """
    has_rooms = select(Classroom.ecole_id).distinct()
    created = 0
    for ecole in session.scalars(select(Ecole).where(Ecole.id.not_in(has_rooms))):
        if ecole.pupils:
            n = max(1, math.ceil(ecole.pupils / PUPILS_PER_CLASS[ecole.nature]))
        else:
            low, high = (3, 6) if ecole.nature is SchoolNature.MATERNELLE else (5, 12)
            n = low + zlib.crc32(ecole.uai.encode()) % (high - low + 1)
        levels = {
            SchoolNature.MATERNELLE: ["PS", "MS", "GS"],
            SchoolNature.ELEMENTAIRE: ["CP", "CE1", "CE2", "CM1", "CM2"],
            SchoolNature.PRIMAIRE: ["PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"],
        }[ecole.nature]
        share = (ecole.pupils or 0) // len(levels)
        for i, (lvls, pupils) in enumerate(
            levels_for_classes(n, dict.fromkeys(levels, share or 1)), start=1
        ):
            session.add(
                Classroom(
                    ecole=ecole,
                    name=f"Classe {i}",
                    position=i,
                    levels=",".join(lvls),
                    pupils=pupils if share else None,
                    estimated=True,
                )
            )
            created += 1
    session.commit()
    return created


class ClassroomError(DomainError):
    pass


def _clean_levels(levels: list[str]) -> str:
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown:
        raise ClassroomError(_l("Unknown level: %(levels)s.", levels=", ".join(unknown)))
    return ",".join(lv for lv in LEVELS if lv in levels)


def add_classroom(
    session: Session,
    user: Subject,
    ecole: Ecole,
    name: str,
    levels: list[str],
    pupils: int | None,
) -> Classroom:
    if not policy.can(user, Action.EDIT, ecole, session):
        raise policy.Denied()
    name = name.strip()
    if session.scalar(select(Classroom.id).filter_by(ecole_id=ecole.id, name=name)):
        raise ClassroomError(
            _l("This school already has a classroom named «%(name)s».", name=name), field="name"
        )
    position = (
        session.scalar(select(func.max(Classroom.position)).where(Classroom.ecole_id == ecole.id))
        or 0
    ) + 1
    room = Classroom(
        ecole=ecole, name=name, levels=_clean_levels(levels), pupils=pupils, position=position
    )
    session.add(room)
    session.commit()
    return room


def update_classroom(
    session: Session,
    user: Subject,
    room: Classroom,
    name: str,
    levels: list[str],
    pupils: int | None,
) -> Classroom:
    if not policy.can(user, Action.EDIT, room, session):
        raise policy.Denied()
    name = name.strip()
    clash = session.scalar(
        select(Classroom.id).where(
            Classroom.ecole_id == room.ecole_id, Classroom.name == name, Classroom.id != room.id
        )
    )
    if clash:
        raise ClassroomError(
            _l("This school already has a classroom named «%(name)s».", name=name), field="name"
        )
    room.name, room.levels, room.pupils = name, _clean_levels(levels), pupils
    room.estimated = False
    session.commit()
    return room


# -- collectivités and ownership --------------------------------------------------------
class CollectiviteError(DomainError):
    pass


def create_collectivite(
    session: Session,
    user: Subject,
    *,
    kind: CollectiviteKind,
    name: str,
    siren: str | None,
    departement: Departement,
    members: list[Commune],
    commune: Commune | None = None,
) -> Collectivite:
    policy.require(user, Action.ADMIN)
    siren = (siren or "").replace(" ", "") or None
    if siren and not ids.is_valid_siren(siren):
        raise CollectiviteError(_l("Invalid SIREN «%(siren)s».", siren=siren), field="siren")
    if siren and session.scalar(select(Collectivite.id).filter_by(siren=siren)):
        raise CollectiviteError(
            _l("SIREN %(siren)s is already registered.", siren=siren), field="siren"
        )
    if kind is CollectiviteKind.COMMUNE and commune is None:
        raise CollectiviteError(_l("A commune collectivité needs its commune."), field="commune")
    coll = Collectivite(
        kind=kind,
        name=name.strip(),
        siren=siren,
        departement=departement,
        commune=commune,
        members=members,
    )
    session.add(coll)
    session.commit()
    return coll


def rename_collectivite(
    session: Session, user: Subject, coll: Collectivite, *, name: str, kind: CollectiviteKind
) -> Collectivite:
    """An administrator names a collectivité and sets its kind (EPCI, syndicat, RPI for an
    intercommunal body; a commune stays a commune). It is no longer provisional: a later
    Annuaire import never renames it. The change log records the edit."""
    policy.require(user, Action.ADMIN)
    name = " ".join(name.split())
    if not name:
        raise CollectiviteError(_l("The name is required."), field="name")
    if len(name) > 200:
        raise CollectiviteError(_l("The name is longer than 200 characters."), field="name")
    is_commune = coll.kind is CollectiviteKind.COMMUNE and coll.commune_id is not None
    if is_commune and kind is not CollectiviteKind.COMMUNE:
        raise CollectiviteError(_l("A commune's kind cannot change."), field="kind")
    if not is_commune and kind is CollectiviteKind.COMMUNE:
        raise CollectiviteError(
            _l("An intercommunal body is an EPCI, a syndicat or an RPI."), field="kind"
        )
    coll.name, coll.kind, coll.provisional = name, kind, False
    session.commit()
    return coll


def move_school(
    session: Session, user: Subject, ecole: Ecole, to: Collectivite, since: date
) -> Ecole:
    """Hand a school to another collectivité (a commune joining an RPI, say).

    The school keeps its classrooms and history; the ownership periods record the move.
    """
    policy.require(user, Action.ADMIN)
    if ecole.collectivite_id == to.id:
        return ecole
    current = next((o for o in ecole.ownerships if o.until is None), None)
    if current is not None:
        if current.since is not None and since < current.since:
            raise CollectiviteError(_l("The move cannot predate the current ownership."))
        current.until = since
    ecole.ownerships.append(Ownership(collectivite=to, since=since))
    ecole.collectivite = to
    session.commit()
    return ecole


# -- summaries and choices -----------------------------------------------------------------
@dataclass
class RegistrySummary:
    schools: int
    classrooms: int
    collectivites: int
    circonscriptions: int


def registry_summary(session: Session, user: Subject) -> RegistrySummary:
    def count(model: type) -> int:
        return (
            session.scalar(policy.visible(user, select(func.count()).select_from(model), model))
            or 0
        )

    return RegistrySummary(
        count(Ecole), count(Classroom), count(Collectivite), count(Circonscription)
    )


def scope_choices(session: Session) -> dict[policy.ScopeKind, list[tuple[int, str]]]:
    """Every place a user's scope can be set to, as (id, label) pairs, for administrators."""
    kinds = policy.ScopeKind
    return {
        kinds.COLLECTIVITE: [
            (c.id, f"{c.name} ({c.siren or c.kind.value})")
            for c in session.scalars(select(Collectivite).order_by(Collectivite.name))
        ],
        kinds.ACADEMIE: [
            (a.id, a.name) for a in session.scalars(select(Academie).order_by(Academie.name))
        ],
        kinds.DEPARTEMENT: [
            (d.id, f"{d.code} {d.name}")
            for d in session.scalars(select(Departement).order_by(Departement.code))
        ],
        kinds.CIRCONSCRIPTION: [
            (c.id, c.name)
            for c in session.scalars(select(Circonscription).order_by(Circonscription.name))
        ],
    }
