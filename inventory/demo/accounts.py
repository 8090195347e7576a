"""The demo's places (its collectivité, académie and circonscription) and one account per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.auth.models import User
from inventory.auth.services import ScopeChoice, create_user
from inventory.core.policy import Role, Scope, ScopeKind
from inventory.orgs.models import Academie, Circonscription, Collectivite, Ecole

DEMO_PASSWORD = "socle-demo-2021"
DEMO_TOWN = "Créteil"


class Setup:
    """Who loads the demo: the system, with every right."""

    id = None
    role = Role.ADMIN
    scope = Scope(everything=True)


@dataclass
class Places:
    town: Collectivite
    academie: Academie
    circo: Circonscription


def demo_places(session: Session) -> Places | None:
    """Créteil (else the collectivité with most schools), the first académie, and the first
    circonscription, by name, of the town's schools."""
    town = session.scalar(
        select(Collectivite)
        .join(Ecole, Ecole.collectivite_id == Collectivite.id)
        .where(Collectivite.name == DEMO_TOWN)
        .limit(1)
    ) or session.scalar(
        select(Collectivite)
        .join(Ecole, Ecole.collectivite_id == Collectivite.id)
        .group_by(Collectivite.id)
        .order_by(func.count(Ecole.id).desc())
        .limit(1)
    )
    academie = session.scalar(select(Academie).order_by(Academie.code).limit(1))
    circo = session.scalar(
        select(Circonscription)
        .join(Ecole, Ecole.circonscription_id == Circonscription.id)
        .where(Ecole.collectivite_id == (town.id if town else None))
        .order_by(Circonscription.name)
        .limit(1)
    )
    if town is None or academie is None or circo is None:
        return None
    return Places(town, academie, circo)


def demo_accounts(places: Places) -> list[tuple[str, str, Role, list[ScopeChoice]]]:
    town, academie, circo = places.town, places.academie, places.circo
    return [
        ("admin@socle.example", "Alice Administratrice", Role.ADMIN, []),
        (
            "technicien@socle.example",
            f"Thomas Technicien ({town.name})",
            Role.TECHNICIEN,
            [ScopeChoice(ScopeKind.COLLECTIVITE, town.id)],
        ),
        (
            "gestionnaire@socle.example",
            f"Gaëlle Gestionnaire ({town.name})",
            Role.GESTIONNAIRE,
            [ScopeChoice(ScopeKind.COLLECTIVITE, town.id)],
        ),
        (
            "dan@socle.example",
            f"Denis Auditeur (académie de {academie.name})",
            Role.AUDITEUR,
            [ScopeChoice(ScopeKind.ACADEMIE, academie.id)],
        ),
        (
            "ien@socle.example",
            f"Inès Auditrice ({circo.name})",
            Role.AUDITEUR,
            [ScopeChoice(ScopeKind.CIRCONSCRIPTION, circo.id)],
        ),
        (
            "erun@socle.example",
            f"Éric Formateur ({circo.name})",
            Role.FORMATEUR,
            [ScopeChoice(ScopeKind.CIRCONSCRIPTION, circo.id)],
        ),
    ]


def load_accounts(session: Session, places: Places) -> Iterator[str]:
    yield ""
    yield f"Demo accounts (password for all: {DEMO_PASSWORD})"
    for email, name, role, scopes in demo_accounts(places):
        if session.scalar(select(User.id).filter_by(email=email)) is None:
            create_user(
                session,
                Setup(),
                email=email,
                name=name,
                role=role,
                scopes=scopes,
                password=DEMO_PASSWORD,
            )
        yield f"  {role.value:<13} {email:<26} {name}"


def demo_user(session: Session, email: str) -> User:
    return session.execute(select(User).filter_by(email=email)).scalar_one()
