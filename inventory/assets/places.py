"""Places to choose from: the collectivités, schools and classrooms forms and list
filters offer, narrowed to what the user may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inventory.core import policy, search
from inventory.core.policy import Subject
from inventory.orgs.models import Classroom, Collectivite, Commune, Ecole


@dataclass
class PlaceChoices:
    """Collectivités and schools to choose from in forms; ``more``: the list was cut."""

    collectivites: list[Collectivite]
    schools: list[Ecole]
    more: bool = False


def place_choices(
    session: Session,
    user: Subject,
    *,
    collectivite: int | None = None,
    q: str = "",
    include: int | None = None,
    limit: int = 300,
) -> PlaceChoices:
    # A national scope holds 35,000 collectivités: offer the first ones, and the chosen one.
    colls = list(
        session.scalars(
            policy.visible(
                user,
                select(Collectivite).order_by(Collectivite.name, Collectivite.id),
                Collectivite,
            ).limit(limit + 1)
        )
    )
    cut = len(colls) > limit
    colls = colls[:limit]
    if collectivite and all(c.id != collectivite for c in colls):
        chosen = session.scalar(
            policy.visible(
                user, select(Collectivite).where(Collectivite.id == collectivite), Collectivite
            )
        )
        if chosen is not None:
            colls.insert(0, chosen)
    stmt = select(Ecole).options(selectinload(Ecole.commune)).order_by(Ecole.name, Ecole.id)
    if collectivite:
        stmt = stmt.where(Ecole.collectivite_id == collectivite)
    stmt = stmt.where(*search.matches(session, Ecole, q))
    schools = list(session.scalars(policy.visible(user, stmt, Ecole).limit(limit + 1)))
    more = cut or len(schools) > limit
    schools = schools[:limit]
    if include and all(e.id != include for e in schools):
        extra = session.scalar(
            policy.visible(
                user,
                select(Ecole).where(Ecole.id == include).options(selectinload(Ecole.commune)),
                Ecole,
            )
        )
        if extra is not None:
            schools.insert(0, extra)
    return PlaceChoices(colls, schools, more)


@dataclass
class FilterChoices:
    """The collectivités and schools a list's filters offer, as (id, label) pairs;
    ``more``: the lists were cut."""

    collectivites: list[tuple[int, str]]
    schools: list[tuple[int, str]]
    more: bool = False


def filter_choices(
    session: Session,
    user: Subject,
    *,
    collectivite: int | None = None,
    ecole: int | None = None,
    limit: int = 100,
) -> FilterChoices:
    """What :func:`place_choices` offers, for the filters of a list: ids and labels read
    as rows. A list is shown far more often than a form, and building a few hundred
    objects here cost more than its page of items."""
    colls = [
        (i, name)
        for i, name in session.execute(
            policy.visible(
                user,
                select(Collectivite.id, Collectivite.name)
                .order_by(Collectivite.name, Collectivite.id)
                .limit(limit + 1),
                Collectivite,
            )
        )
    ]
    cut = len(colls) > limit
    colls = colls[:limit]
    if collectivite and all(i != collectivite for i, _name in colls):
        chosen = session.execute(
            policy.visible(
                user,
                select(Collectivite.id, Collectivite.name).where(Collectivite.id == collectivite),
                Collectivite,
            )
        ).first()
        if chosen is not None:
            colls.insert(0, (chosen[0], chosen[1]))

    stmt = select(Ecole.id, Ecole.name, Commune.name).join(Commune, Commune.id == Ecole.commune_id)
    if collectivite:
        stmt = stmt.where(Ecole.collectivite_id == collectivite)
    rows = session.execute(
        policy.visible(user, stmt.order_by(Ecole.name, Ecole.id).limit(limit + 1), Ecole)
    )
    found = [(i, f"{name} ({commune})") for i, name, commune in rows]
    more = cut or len(found) > limit
    found = found[:limit]
    if ecole and all(i != ecole for i, _label in found):
        extra = session.execute(policy.visible(user, stmt.where(Ecole.id == ecole), Ecole)).first()
        if extra is not None:
            found.insert(0, (extra[0], f"{extra[1]} ({extra[2]})"))
    return FilterChoices(colls, found, more)


def collectivites_by_id(session: Session, user: Subject, ids: Iterable[int]) -> list[Collectivite]:
    """The collectivités of these ids that ``user`` may see, by name."""
    stmt = select(Collectivite).where(Collectivite.id.in_(list(ids)))
    return list(
        session.scalars(policy.visible(user, stmt, Collectivite).order_by(Collectivite.name))
    )


def visible_school(session: Session, user: Subject, ecole_id: int) -> Ecole | None:
    """The school of that id, with its commune, when ``user`` may see it."""
    stmt = select(Ecole).where(Ecole.id == ecole_id).options(selectinload(Ecole.commune))
    return session.scalar(policy.visible(user, stmt, Ecole))


def classrooms_of(session: Session, user: Subject, ecole_id: int) -> list[Classroom]:
    stmt = (
        select(Classroom)
        .where(Classroom.ecole_id == ecole_id)
        .order_by(Classroom.position, Classroom.id)
    )
    return list(session.scalars(policy.visible(user, stmt, Classroom)))
