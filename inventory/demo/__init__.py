"""Demonstration data: the real Val-de-Marne schools, one account per role, and one living
collectivité (Créteil): pupils per classroom (borrowed from the 035 effectifs extract, see
:mod:`inventory.demo.pupils`), equipment in most classrooms with a few short of the socle,
network works, QR tokens, tickets in every state, a SNEE 2021 dossier whose invoices are
linked to the items and works they paid for, with its advance received, training
sessions, held and upcoming, and the town's suppliers (a contract, the ENT subscription,
maintenance) with the alerts of what ends soon in the outbox.

Everything goes through the domain services (the change log and the rules apply), from a
fixed seed and fixed dates; the training sessions are placed relative to the load date.
Loading twice changes nothing: the second run says the demo is already there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.assets.models import Asset
from inventory.core import audit
from inventory.orgs.importers import import_annuaire
from inventory.orgs.label_texts import set_label_texts
from inventory.orgs.services import estimate_classrooms
from inventory.paths import ROOT

from .accounts import DEMO_PASSWORD, Places, demo_places, demo_user, load_accounts
from .clock import SET_UP, on
from .disposals import load_disposals
from .equipment import Equipment, load_equipment
from .grants import DEMO_DOSSIER_REFERENCE, load_grants
from .helpdesk import load_tickets
from .loans import load_loans
from .network import load_network
from .pupils import load_pupils
from .sso import load_providers
from .suppliers import load_suppliers
from .training import load_training

DEMO_ANNUAIRE = ROOT / "data" / "annuaire-education-094.csv"

__all__ = ["DEMO_ANNUAIRE", "DEMO_DOSSIER_REFERENCE", "DEMO_PASSWORD", "load_demo"]


def load_demo(
    session: Session, annuaire: Path | None = None, *, today: date | None = None
) -> Iterator[str]:
    path = annuaire or DEMO_ANNUAIRE
    places = demo_places(session)
    if places is not None and _world_loaded(session, places):
        yield (
            f"The demo of {places.town.name} is already loaded: nothing changed. "
            "Load it into an empty database to start again."
        )
        yield from load_accounts(session, places)
        return
    with on(SET_UP, 8):
        report = import_annuaire(session, path.read_bytes(), path.name)
        yield f"Annuaire {path.name}: {report.summary()}"
        places = demo_places(session)
        if places is not None:
            yield from load_pupils(session, places.town)
        yield f"Classrooms estimated: {estimate_classrooms(session)}"
        session.commit()
        if places is None:
            yield "No school imported: demo accounts not created."
            return
        yield from load_accounts(session, places)
    yield from _world(session, places, today or date.today())


def _world_loaded(session: Session, places: Places) -> bool:
    return (
        session.scalar(select(Asset.id).where(Asset.collectivite_id == places.town.id).limit(1))
        is not None
    )


def _world(session: Session, places: Places, today: date) -> Iterator[str]:
    tech = demo_user(session, "technicien@socle.example")
    trainer = demo_user(session, "erun@socle.example")
    yield ""
    equipment: Equipment | None = None
    with audit.acting_as(audit.Actor(tech.id, tech.name)):
        for line in load_equipment(session, tech, places.town, places.circo.id):
            if isinstance(line, Equipment):
                equipment = line
            else:
                yield line
    assert equipment is not None
    with audit.acting_as(audit.Actor(tech.id, tech.name)):
        yield from load_network(session, tech, equipment)
    yield from load_tickets(session, tech, equipment, today)
    yield from load_training(session, trainer, equipment, today)
    yield from load_loans(session, tech, places.town, equipment, today)
    yield from load_grants(session, places.town, equipment)
    with audit.acting_as(audit.Actor(tech.id, tech.name)):
        admin = demo_user(session, "admin@socle.example")
        yield from load_disposals(session, tech, admin, places.town)
    finance = demo_user(session, "gestionnaire@socle.example")
    yield from load_suppliers(session, tech, finance, places.town, equipment, today)
    # What every label of the town says, funded or not yet invoiced (labels/mentions.py).
    admin = demo_user(session, "admin@socle.example")
    with audit.acting_as(audit.Actor(admin.id, admin.name)):
        set_label_texts(
            session,
            admin,
            places.town,
            mention=f"Équipement numérique de {places.town.name} pour ses écoles",
            prompt="Un problème ? Scannez-moi",
        )
    yield f"Labels of {places.town.name}: default mention and scan prompt set"
    with audit.acting_as(audit.Actor(admin.id, admin.name)):
        yield from load_providers(session, places)
