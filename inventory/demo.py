"""Demonstration data: the real Val-de-Marne schools and one account per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory import ROOT
from inventory.auth.models import User
from inventory.auth.services import ScopeChoice, create_user
from inventory.core.policy import Role, Scope, ScopeKind
from inventory.orgs.models import Academie, Circonscription, Collectivite, Ecole
from inventory.orgs.services import estimate_classrooms, import_annuaire

DEMO_ANNUAIRE = ROOT / "data" / "annuaire-education-094.csv"
DEMO_PASSWORD = "socle-demo-2021"


class _Setup:
    id = None
    role = Role.ADMIN
    scope = Scope(everything=True)


def load_demo(session: Session, annuaire: Path | None = None) -> Iterator[str]:
    path = annuaire or DEMO_ANNUAIRE
    report = import_annuaire(session, path.read_bytes(), path.name)
    yield f"Annuaire {path.name}: {report.summary()}"
    yield f"Classrooms estimated: {estimate_classrooms(session)}"

    town = session.scalar(
        select(Collectivite)
        .join(Ecole, Ecole.collectivite_id == Collectivite.id)
        .where(Collectivite.name == "Créteil")
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
        yield "No school imported: demo accounts not created."
        return
    accounts = [
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
    yield ""
    yield f"Demo accounts (password for all: {DEMO_PASSWORD})"
    for email, name, role, scopes in accounts:
        if session.scalar(select(User.id).filter_by(email=email)) is None:
            create_user(
                session,
                _Setup(),
                email=email,
                name=name,
                role=role,
                scopes=scopes,
                password=DEMO_PASSWORD,
            )
        yield f"  {role.value:<13} {email:<26} {name}"
