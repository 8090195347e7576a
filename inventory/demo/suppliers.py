"""The demo's suppliers: UGAP (the town's items, bought through it, linked to it when they
were recorded), Speechi
with a maintenance contract on the first school's displays, the ENT bought under the demo
dossier as a subscription ending soon, a repair, an overdue planned visit, two warranty
claims (one answered, one awaiting); then the alert
job's mails in the outbox, as the morning run would write them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.assets import digital, lifecycle
from inventory.assets.models import Asset, ServiceKind
from inventory.auth.models import User
from inventory.core import audit
from inventory.grants.models import Dossier, Expense
from inventory.orgs.models import Collectivite
from inventory.suppliers import claims, contracts, directory, maintenance, subscriptions
from inventory.suppliers.alerts import send_expiry_alerts
from inventory.suppliers.models import ClaimStatus, ContractKind, Supplier

from .equipment import Equipment
from .grants import DEMO_DOSSIER_REFERENCE

# Valid SIRETs (Luhn), made up for the demo.
UGAP_SIRET = "18004700000013"
SPEECHI_SIRET = "49312268000025"


def load_suppliers(
    session: Session,
    tech: User,
    finance: User,
    town: Collectivite,
    equipment: Equipment,
    today: date,
) -> Iterator[str]:
    yield ""
    with audit.acting_as(audit.Actor(tech.id, tech.name)):
        # The town's items typed "UGAP" made its directory entry: its contact filled in.
        ugap = session.scalars(
            select(Supplier).where(Supplier.collectivite_id == town.id, Supplier.name == "UGAP")
        ).first()
        ugap = directory.save_supplier(
            session,
            tech,
            ugap,
            directory.SupplierFields(
                "UGAP",
                siret=UGAP_SIRET,
                address="1 boulevard Archimède\n77444 Champs-sur-Marne",
                phone="01 64 73 20 00",
                email="contact@ugap.example",
            ),
            collectivite=town,
            version=ugap.version if ugap else None,
        )
        speechi = directory.save_supplier(
            session,
            tech,
            None,
            directory.SupplierFields(
                "Speechi",
                siret=SPEECHI_SIRET,
                address="70 rue des Mérovingiens\n59000 Lille",
                phone="03 20 00 00 00",
                email="sav@speechi.example",
            ),
            collectivite=town,
        )
        items = session.scalars(
            select(Asset.id).where(Asset.collectivite_id == town.id, Asset.supplier_id == ugap.id)
        ).all()
        yield f"Suppliers of {town.name}: UGAP ({len(items)} items linked), Speechi"
        first = equipment.schools[0]
        displays = equipment.by_school.get(first.id, {}).get("display", [])
        tags = list(session.scalars(select(Asset.tag).where(Asset.id.in_(displays))))
        contracts.save_contract(
            session,
            tech,
            None,
            contracts.ContractFields(
                ContractKind.MAINTENANCE,
                "SPE-MAINT-2024",
                f"Maintenance des écrans de {first.name}",
                today - timedelta(days=640),
                today + timedelta(days=75),
                cost_per_year_cents=1_800_00,
            ),
            supplier=speechi,
            item_tags=tags,
        )
        yield f"Contract SPE-MAINT-2024: {len(tags)} displays, ends in 75 days"
        if displays:
            screen = session.get(Asset, displays[0])
            assert screen is not None
            maintenance.record_maintenance(
                session,
                tech,
                screen,
                maintenance.WorkFields(
                    today - timedelta(days=40),
                    "Remplacement du module tactile",
                    cost_cents=320_00,
                    duration_minutes=90,
                    supplier_id=speechi.id,
                ),
            )
            maintenance.plan_maintenance(
                session,
                tech,
                screen,
                maintenance.PlanFields(
                    "Contrôle annuel et nettoyage", 12, today - timedelta(days=10), speechi.id
                ),
            )
            yield f"Maintenance of {screen.tag}: a repair, and a yearly visit overdue"
        yield from _warranty_claims(session, tech, speechi, displays, today)
    expense = session.scalar(
        select(Expense)
        .join(Dossier, Dossier.id == Expense.dossier_id)
        .where(Dossier.reference == DEMO_DOSSIER_REFERENCE, Expense.volet == "services")
    )
    with audit.acting_as(audit.Actor(finance.id, finance.name)):
        sub = subscriptions.save_subscription(
            session,
            finance,
            None,
            fields=digital.ServiceFields(
                ServiceKind.ENT,
                "ENT Beneylu School",
                starts_on=date(2021, 11, 3),
                ends_on=today + timedelta(days=80),
            ),
            terms=subscriptions.Terms(
                seats_bought=600,
                seats_used=540,
                cost_per_year_cents=2_400_00,
                expense_id=expense.id if expense else None,
            ),
            ecole_ids=[e.id for e in equipment.schools],
            collectivite=town,
        )
    yield f"Subscription {sub.service.name}: {len(equipment.schools)} schools, ends in 80 days"
    with audit.acting_as(audit.SYSTEM):
        sent = send_expiry_alerts(session, current_app.config, today)
    yield f"Alerts of what ends soon: {sent}, in the outbox"


def _warranty_claims(
    session: Session, tech: User, speechi: Supplier, displays: list[int], today: date
) -> Iterator[str]:
    """Two displays whose warranty the town had extended to five years with Speechi (an
    edit of each item, as a technician makes it), then a claim on each: one answered
    (repaired), one sent twelve days ago and still awaiting Speechi's answer."""
    chosen = list(session.scalars(select(Asset).where(Asset.id.in_(displays)).order_by(Asset.id)))[
        -2:
    ]
    if len(chosen) < 2:
        return
    for asset in chosen:
        bought = asset.purchase_date or today
        typed = lifecycle.AssetFields.of(
            asset,
            warranty_end=date(bought.year + 5, bought.month, bought.day),
            notes="Garantie étendue à cinq ans chez Speechi.",
        )
        lifecycle.update_asset(
            session,
            tech,
            asset,
            version=asset.version,
            fields=typed,
            tag=asset.tag,
            model=asset.model,
        )
    answered, waiting = chosen
    if waiting.warranty_end is None or waiting.warranty_end < today:
        return  # bought too long ago for the demo's date: no claim to show
    first = claims.claim_warranty(
        session,
        tech,
        current_app.config,
        answered,
        problem="Le stylet n'est plus reconnu sur la moitié droite de l'écran.",
        day=today - timedelta(days=60),
        supplier_id=speechi.id,
    )
    claims.answer_claim(
        session,
        tech,
        first,
        claims.ClaimAnswer(
            ClaimStatus.REPAIRED,
            today - timedelta(days=45),
            reference="RMA-24-0871",
            answer="Cadre tactile remplacé sur place par le technicien Speechi.",
        ),
        today=today,
    )
    claims.claim_warranty(
        session,
        tech,
        current_app.config,
        waiting,
        problem="L'écran s'éteint seul après une dizaine de minutes.",
        day=today - timedelta(days=12),
        supplier_id=speechi.id,
    )
    yield (
        f"Warranty claims: {answered.tag} repaired by Speechi, "
        f"{waiting.tag} awaiting its answer for 12 days"
    )
