"""The shipped funding schemes, and the demo collectivité's SNEE 2021 dossier: two schools,
the invoice of their equipment with a line linked to each item it paid for, the invoice of
their network works linked to the works, a services invoice, and the advance received."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

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
from inventory.orgs.models import Collectivite, Ecole

from .accounts import Setup
from .clock import SET_UP, on
from .equipment import Equipment

DEMO_DOSSIER_REFERENCE = "DEMO-SNEE-2021"
# What the dossier's invoice covers of each school: the items of its classrooms.
INVOICED = ("display", "poste", "captation", "visualiseur")


def _ht(ttc: int) -> int:
    return ttc * 5 // 6


def load_grants(session: Session, town: Collectivite, equipment: Equipment | None) -> Iterator[str]:
    with on(SET_UP, 10):
        created = install_presets(session)
    yield ""
    yield f"Funding schemes: {', '.join(created) if created else 'already installed'}"
    if session.scalar(select(Dossier.id).filter_by(reference=DEMO_DOSSIER_REFERENCE)):
        yield f"Demo dossier {DEMO_DOSSIER_REFERENCE}: already there"
        return
    scheme = session.scalar(select(FundingScheme).filter_by(code="snee-2021"))
    ecoles: list[Ecole] = equipment.dossier_schools if equipment else []
    if scheme is None or not ecoles:
        yield "No elementary school in the demo collectivité: no demo dossier."
        return
    setup = Setup()
    # Per school: the invoiced items (id, price TTC) and the works.
    items = {
        e.id: [
            (i, equipment.prices[i])  # type: ignore[union-attr]
            for kind in INVOICED
            for i in equipment.by_school[e.id].get(kind, [])  # type: ignore[union-attr]
        ]
        for e in ecoles
    }
    works = {e.id: equipment.works[e.id] for e in ecoles if e.id in equipment.works}  # type: ignore[union-attr]
    works_cost = {e_id: equipment.work_costs[e_id] for e_id in works}  # type: ignore[union-attr]
    hardware = {e_id: sum(p for _, p in rows) for e_id, rows in items.items()}
    counts = school_defaults(session, [e.id for e in ecoles])
    equipement = sum(hardware.values()) + sum(works_cost.values())
    try:
        with on(date(2021, 3, 22), 14):
            dossier = create_dossier(
                session,
                setup,
                collectivite=town,
                scheme=scheme,
                fields=DossierFields(
                    title="Socle numérique dans les écoles élémentaires",
                    reference=DEMO_DOSSIER_REFERENCE,
                    convention_max_cents=equipement * 7 // 10,
                    decision_on=date(2021, 6, 15),
                    convention_signed_on=date(2021, 7, 5),
                    spending_deadline=date(2022, 12, 31),
                    planned_cents={"equipement": equipement, "services": 240_000},
                ),
                schools=[
                    SchoolCover(e.id, pupils=pupils or classes * 24)
                    for e in ecoles
                    for classes, pupils in [counts[e.id]]
                ],
            )
        for status, day in (
            (DossierStatus.SUBMITTED, date(2021, 3, 26)),
            (DossierStatus.APPROVED, date(2021, 6, 15)),
            (DossierStatus.SIGNED, date(2021, 7, 5)),
        ):
            with on(day, 10):
                change_dossier_status(session, setup, dossier, status)
        ttc = sum(hardware.values())
        with on(date(2021, 10, 20), 15):
            add_expense(
                session,
                setup,
                dossier,
                ExpenseFields(
                    "equipement",
                    "UGAP",
                    "FA-2021-1187",
                    _ht(ttc),
                    ttc,
                    invoice_date=date(2021, 10, 12),
                    description="Écrans numériques interactifs, postes enseignants, visualiseurs "
                    "et kits de captation",
                ),
                allocations=[
                    AllocationInput(e.id, _ht(hardware[e.id]), hardware[e.id]) for e in ecoles
                ],
                links=[LinkInput("asset", i, p) for e in ecoles for i, p in items[e.id]],
            )
        if works:
            ttc = sum(works_cost.values())
            with on(date(2021, 9, 15), 15):
                add_expense(
                    session,
                    setup,
                    dossier,
                    ExpenseFields(
                        "equipement",
                        "Val-de-Marne Réseaux",
                        "VMR-2021-0412",
                        _ht(ttc),
                        ttc,
                        invoice_date=date(2021, 9, 10),
                        description="Câblage et Wi-Fi des classes",
                    ),
                    allocations=[
                        AllocationInput(e_id, _ht(cost), cost) for e_id, cost in works_cost.items()
                    ],
                    links=[LinkInput("work", works[e_id], works_cost[e_id]) for e_id in works],
                )
        with on(date(2021, 11, 8), 15):
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
        advance = equipement * 7 // 10 * 3 // 10
        with on(date(2021, 9, 14), 16):
            record_payment(
                session,
                setup,
                dossier,
                PaymentFields(
                    PaymentKind.ADVANCE,
                    requested_on=date(2021, 7, 20),
                    requested_cents=advance,
                    received_on=date(2021, 9, 14),
                    received_cents=advance,
                    reference="DGESCO-AV-2021-094-17",
                ),
            )
    except DomainError as exc:
        session.rollback()
        yield f"Demo dossier not created: {exc.message}"
        return
    aid = dossier_aid(dossier)
    yield (
        f"Demo dossier {DEMO_DOSSIER_REFERENCE} for {town.name}: {len(ecoles)} schools, "
        f"{sum(len(v) for v in items.values())} items and {len(works)} works linked to its "
        f"invoices, state aid {plain_amount(aid.aid_cents)} €, advance "
        f"{plain_amount(advance)} € received"
    )
