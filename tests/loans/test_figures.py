"""The loans' figures on the dashboards and the school's page: each cart's booked hours per
school week (over the last six weeks), the devices on loan and those overdue."""

from __future__ import annotations

from datetime import date, time, timedelta

from inventory.extensions import db
from inventory.loans.bookings import BookingRequest, book
from inventory.loans.custody import Borrower, check_out
from inventory.loans.figures import WEEKS
from inventory.loans.models import BorrowerKind, Kit
from inventory.orgs.models import Ecole
from tests.factories import ADMIN, login
from tests.loans.builders import item, next_weekday


def test_usage_on_loan_and_overdue_on_the_dashboards(app, world, db_session, registry):
    with app.app_context():
        kit = db.session.get(Kit, world.kit_id)
        # Three hours a week, each of the last six weeks; this week's do not count yet.
        for weeks_ago in range(1, WEEKS + 2):
            day = next_weekday(1, weeks=-weeks_ago)
            book(
                db.session,
                ADMIN,
                kit,
                BookingRequest(day, time(9, 0), time(12, 0), "CM1", "Mme Roy"),
            )
        book(
            db.session,
            ADMIN,
            kit,
            BookingRequest(next_weekday(1, 0), time(9, 0), time(12, 0), "CM2", "M. Roy"),
        )
        db.session.remove()
    ecole = db_session.get(Ecole, world.ecole_id)
    staff = Borrower(BorrowerKind.STAFF, staff_name="M. Roux")
    today = date.today()
    check_out(
        db_session,
        ADMIN,
        item(db_session, ecole, "pc_eleve"),
        staff,
        starts_on=today - timedelta(days=9),
        due_on=today - timedelta(days=1),
    )
    check_out(
        db_session,
        ADMIN,
        item(db_session, ecole, "pc_eleve"),
        staff,
        starts_on=today,
        due_on=today + timedelta(days=9),
    )

    auditor = app.test_client()
    assert login(auditor, world.users["auditor"]).status_code == 302
    auditor.post("/language", data={"lang": "en", "next": "/"})
    page = auditor.get(f"/tableau-de-bord/collectivite/{world.collectivite_id}")
    assert page.status_code == 200
    assert "Items on loan: 2, of which overdue: 1" in page.text
    row = page.text.split("Classe mobile 1</a></td>")[1].split("</tr>")[0]
    assert "<td>3</td>" in row  # hours per school week
    school = auditor.get(f"/ecoles/{world.ecole_id}")
    assert "Classe mobile 1" in school.text and "Items on loan: 2" in school.text
    # Another collectivité's dashboard counts nothing of it.
    other = app.test_client()
    assert login(other, world.users["other"]).status_code == 302
    assert "Classe mobile 1" not in other.get("/tableau-de-bord").text


def test_the_overdue_list(app, world, db_session):
    ecole = db_session.get(Ecole, world.ecole_id)
    staff = Borrower(BorrowerKind.STAFF, staff_name="M. Roux")
    today = date.today()
    late = item(db_session, ecole, "pc_eleve")
    check_out(
        db_session,
        ADMIN,
        late,
        staff,
        starts_on=today - timedelta(days=9),
        due_on=today - timedelta(days=1),
    )
    due = item(db_session, ecole, "pc_eleve")
    check_out(db_session, ADMIN, due, staff, starts_on=today, due_on=today + timedelta(days=9))
    client = app.test_client()
    assert login(client, world.users["director"]).status_code == 302
    every = client.get("/prets").text
    assert late.tag in every and due.tag in every
    assert every.index(late.tag) < every.index(due.tag)  # the oldest due date first
    overdue = client.get("/prets?retard=1").text
    assert late.tag in overdue and due.tag not in overdue
