"""The loans' periodic jobs: reminders before the due date and when overdue (through the
mail outbox, each once), and the families' data erased after the retention time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from inventory.core.audit import AuditRecord
from inventory.core.db import utcnow
from inventory.loans import tasks
from inventory.loans.custody import Borrower, check_in, check_out
from inventory.loans.models import BorrowerKind, Condition, Loan
from inventory.orgs.models import Ecole
from inventory.training.times import local_day
from tests.factories import ADMIN, outbox
from tests.loans.builders import item

FAMILY = Borrower(
    BorrowerKind.FAMILY,
    pupil_first_name="Lina",
    pupil_class="CE2",
    guardian_name="Sophie Moreau",
    guardian_contact="s.moreau@example.org",
)


@pytest.fixture
def app_config(tmp_path):
    return {
        "STORAGE_PATH": str(tmp_path / "files"),
        "BASE_URL": "https://socle.example.fr",
        "LOANS_FAMILY_RETENTION_DAYS": 30,
    }


def _lend(db_session, ecole, starts_on, due_on, who=FAMILY):
    return check_out(
        db_session,
        ADMIN,
        item(db_session, ecole, "pc_eleve"),
        who,
        starts_on=starts_on,
        due_on=due_on,
    )


def test_reminders_go_before_the_due_date_then_once_overdue(app, world, db_session):
    ecole = db_session.get(Ecole, world.ecole_id)
    ecole.email = "ce.0941127P@ac-creteil.fr"
    db_session.commit()
    today = local_day(utcnow())  # the app's day: in France, a day ahead from 23:00 UTC
    soon = _lend(db_session, ecole, today - timedelta(days=20), today + timedelta(days=2))
    later = _lend(db_session, ecole, today, today + timedelta(days=40))
    late = _lend(db_session, ecole, today - timedelta(days=30), today - timedelta(days=1))
    staff = _lend(
        db_session,
        ecole,
        today,
        today + timedelta(days=1),
        Borrower(BorrowerKind.STAFF, staff_name="M. Roux"),
    )
    with app.app_context():
        tasks.loan_reminders()
    mails = outbox(db_session)
    # Guardian and school for the two family loans due, the school for the staff's.
    assert len(mails) == 5
    subjects = [m.subject for m in mails]
    assert not any(_tag(db_session, later.id) in s for s in subjects)
    assert any("en retard" in s and _tag(db_session, late.id) in s for s in subjects)
    assert sum(_tag(db_session, soon.id) in s for s in subjects) == 2
    assert sum(_tag(db_session, staff.id) in s for s in subjects) == 1
    assert {m.to for m in mails} == {"s.moreau@example.org", "ce.0941127P@ac-creteil.fr"}
    assert all("https://socle.example.fr/prets/" in m.body for m in mails)
    # Run again the same day: nothing more.
    with app.app_context():
        tasks.loan_reminders()
    assert len(outbox(db_session)) == 5


def _tag(db_session, loan_id):
    return db_session.get(Loan, loan_id).asset.tag


def test_family_data_is_erased_after_the_retention_and_never_logged(app, world, db_session):
    ecole = db_session.get(Ecole, world.ecole_id)
    today = local_day(utcnow())  # the app's day: in France, a day ahead from 23:00 UTC
    old = _lend(db_session, ecole, today - timedelta(days=90), today - timedelta(days=40))
    check_in(
        db_session,
        ADMIN,
        old,
        None,
        returned_on=today - timedelta(days=31),
        condition=Condition.GOOD,
    )
    recent = _lend(db_session, ecole, today - timedelta(days=60), today - timedelta(days=20))
    check_in(
        db_session,
        ADMIN,
        recent,
        None,
        returned_on=today - timedelta(days=29),
        condition=Condition.GOOD,
    )
    still_out = _lend(db_session, ecole, today - timedelta(days=90), today - timedelta(days=60))
    with app.app_context():
        tasks.purge_loans_family_data()
    db_session.expire_all()
    old, recent, still_out = (db_session.get(Loan, x.id) for x in (old, recent, still_out))
    assert old.purged_at is not None
    assert (old.pupil_first_name, old.pupil_class, old.guardian_name, old.guardian_contact) == (
        None,
    ) * 4
    assert recent.purged_at is None and recent.guardian_name == "Sophie Moreau"
    assert still_out.purged_at is None and still_out.pupil_first_name == "Lina"
    # The loan stays, as the item's history; the change log never held the family's data.
    changes = [
        r.changes
        for r in db_session.scalars(select(AuditRecord).where(AuditRecord.object_type == "loans"))
    ]
    assert any("purged_at" in c for c in changes)
    assert "Moreau" not in repr(changes) and "Lina" not in repr(changes)
