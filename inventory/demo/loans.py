"""The demo's classe mobile: the first equipped school's cart and tablets as one kit, booked
by two classes this week and every week of the term, one tablet lent to a family and one
to a teacher, and the town's own loan conditions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta

from sqlalchemy.orm import Session

from inventory.assets.models import Asset
from inventory.auth.models import User
from inventory.core import audit
from inventory.loans.bookings import BookingRequest, book
from inventory.loans.custody import Borrower, check_out
from inventory.loans.documents import save_terms
from inventory.loans.kits import create_kit
from inventory.loans.models import BorrowerKind
from inventory.orgs.models import Collectivite

from .equipment import Equipment

TERMS = (
    "L'appareil reste la propriété de la commune. Il est prêté pour le travail scolaire de "
    "l'élève pendant la durée indiquée.\n"
    "La famille en prend soin, ne le prête pas et le rapporte à l'école avec son chargeur "
    "à la date prévue. Toute casse, perte ou vol est signalé sans délai à la direction."
)


def load_loans(
    session: Session, tech: User, town: Collectivite, equipment: Equipment, today: date
) -> Iterator[str]:
    school = next(
        (e for e in equipment.schools if equipment.by_school.get(e.id, {}).get("tablette")), None
    )
    if school is None:
        yield "No school with tablets: no classe mobile."
        return
    kinds = equipment.by_school[school.id]
    tablets = kinds["tablette"]
    with audit.acting_as(audit.Actor(tech.id, tech.name)):
        kit = create_kit(
            session, tech, school, "Classe mobile 1", [*kinds.get("chariot", []), *tablets[:-2]]
        )
        monday = today - timedelta(days=today.weekday())
        book(
            session,
            tech,
            kit,
            BookingRequest(
                monday + timedelta(days=1),
                time(9, 0),
                time(10, 30),
                "CM1 B",
                "Mme Lefèvre",
                until=monday + timedelta(weeks=8),
            ),
        )
        book(
            session,
            tech,
            kit,
            BookingRequest(
                monday + timedelta(days=3), time(14, 0), time(15, 0), "CE2 A", "M. Petit"
            ),
        )
        family = Borrower(
            BorrowerKind.FAMILY,
            pupil_first_name="Inès",
            pupil_class="CM2",
            guardian_name="Karim Benali",
            guardian_contact="k.benali@example.org",
        )
        check_out(
            session,
            tech,
            session.get_one(Asset, tablets[-1]),
            family,
            starts_on=today - timedelta(days=30),
            due_on=today + timedelta(days=2),
        )
        staff = Borrower(BorrowerKind.STAFF, staff_name="Mme Lefèvre")
        check_out(
            session,
            tech,
            session.get_one(Asset, tablets[-2]),
            staff,
            starts_on=today - timedelta(days=20),
            due_on=today - timedelta(days=3),
        )
        save_terms(session, tech, town, TERMS, None)
    yield f"Classe mobile of {school.name}: {len(kit.items)} items, 10 bookings, 2 loans"
