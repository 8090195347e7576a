"""Demonstration data: the real Val-de-Marne schools and one account per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.auth.models import User
from inventory.auth.services import ScopeChoice, create_user
from inventory.core.policy import Role, Scope, ScopeKind
from inventory.orgs.importers import import_annuaire
from inventory.orgs.models import Academie, Circonscription, Collectivite, Ecole
from inventory.orgs.services import estimate_classrooms
from inventory.paths import ROOT

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
    yield from _demo_grants(session, town)


DEMO_DOSSIER_REFERENCE = "DEMO-SNEE-2021"


def _demo_grants(session: Session, town: Collectivite) -> Iterator[str]:
    """The shipped funding schemes, and one SNEE 2021 dossier of the demo collectivité with
    two invoices (linked to the items of its schools that have a price, if any)."""
    from datetime import date

    from inventory.assets.models import Asset
    from inventory.core.errors import DomainError
    from inventory.core.money import plain_amount
    from inventory.grants.breakdown import dossier_aid
    from inventory.grants.dossiers import (
        DossierFields,
        SchoolCover,
        change_dossier_status,
        create_dossier,
        school_defaults,
    )
    from inventory.grants.expenses import AllocationInput, ExpenseFields, add_expense
    from inventory.grants.links import LinkInput
    from inventory.grants.models import Dossier, DossierStatus, FundingScheme, PaymentKind
    from inventory.grants.payments import PaymentFields, record_payment
    from inventory.grants.schemes import install_presets
    from inventory.orgs.models import SchoolNature

    created = install_presets(session)
    yield ""
    yield f"Funding schemes: {', '.join(created) if created else 'already installed'}"
    if session.scalar(select(Dossier.id).filter_by(reference=DEMO_DOSSIER_REFERENCE)):
        yield f"Demo dossier {DEMO_DOSSIER_REFERENCE}: already there"
        return
    scheme = session.scalar(select(FundingScheme).filter_by(code="snee-2021"))
    ecoles = list(
        session.scalars(
            select(Ecole)
            .where(Ecole.collectivite_id == town.id, Ecole.nature != SchoolNature.MATERNELLE)
            .order_by(Ecole.name)
            .limit(2)
        )
    )
    if scheme is None or not ecoles:
        yield "No elementary school in the demo collectivité: no demo dossier."
        return
    setup = _Setup()
    counts = school_defaults(session, [e.id for e in ecoles])
    try:
        dossier = create_dossier(
            session,
            setup,
            collectivite=town,
            scheme=scheme,
            fields=DossierFields(
                title="Socle numérique dans les écoles élémentaires",
                reference=DEMO_DOSSIER_REFERENCE,
                convention_max_cents=2_000_000,
                decision_on=date(2021, 6, 15),
                convention_signed_on=date(2021, 7, 5),
                spending_deadline=date(2022, 12, 31),
                planned_cents={"equipement": 2_400_000, "services": 240_000},
            ),
            # The Annuaire gives no pupils here: about 24 per class, as declared.
            schools=[
                SchoolCover(e.id, pupils=pupils or classes * 24)
                for e in ecoles
                for classes, pupils in [counts[e.id]]
            ],
        )
        for status in (DossierStatus.SUBMITTED, DossierStatus.APPROVED, DossierStatus.SIGNED):
            change_dossier_status(session, setup, dossier, status)
        shares = [(12_000_00, 10_000_00), (6_000_00, 5_000_00)][: len(ecoles)]
        ttc, ht = sum(s[0] for s in shares), sum(s[1] for s in shares)
        items = session.scalars(
            select(Asset)
            .where(Asset.ecole_id.in_([e.id for e in ecoles]), Asset.price_ttc_cents.isnot(None))
            .order_by(Asset.id)
            .limit(5)
        ).all()
        links, left = [], ttc
        for item in items:
            amount = min(item.price_ttc_cents or 0, left)
            if amount > 0:
                links.append(LinkInput("asset", item.id, amount))
                left -= amount
        add_expense(
            session,
            setup,
            dossier,
            ExpenseFields(
                "equipement",
                "UGAP",
                "FA-2021-1187",
                ht,
                ttc,
                invoice_date=date(2021, 10, 12),
                description="Écrans numériques interactifs et postes enseignants",
            ),
            allocations=[
                AllocationInput(e.id, s_ht, s_ttc)
                for e, (s_ttc, s_ht) in zip(ecoles, shares, strict=False)
            ],
            links=links,
        )
        add_expense(
            session,
            setup,
            dossier,
            ExpenseFields(
                "services",
                "Éditions numériques",
                "2021-ENT-052",
                1_000_00 * len(ecoles),
                1_200_00 * len(ecoles),
                invoice_date=date(2021, 11, 3),
                description="Abonnement ENT, deux ans",
            ),
            allocations=[AllocationInput(e.id, 1_000_00, 1_200_00) for e in ecoles],
        )
        record_payment(
            session,
            setup,
            dossier,
            PaymentFields(
                PaymentKind.ADVANCE,
                requested_on=date(2021, 7, 20),
                requested_cents=4_000_00,
                received_on=date(2021, 9, 14),
                received_cents=4_000_00,
            ),
        )
    except DomainError as exc:
        session.rollback()
        yield f"Demo dossier not created: {exc.message}"
        return
    aid = dossier_aid(dossier)
    yield (
        f"Demo dossier {DEMO_DOSSIER_REFERENCE} for {town.name}: {len(ecoles)} schools, "
        f"state aid {plain_amount(aid.aid_cents)} €"
    )
