"""The API's bookings and loans: booking a kit with a token (a clash is a 422 naming who
holds it), the kit's bookings in cursor pages, the loans without family data."""

from __future__ import annotations

from datetime import date, timedelta

from inventory.loans.custody import Borrower, check_out
from inventory.loans.models import BorrowerKind
from inventory.orgs.models import Ecole
from tests.factories import ADMIN, api_token, bearer
from tests.loans.builders import item, next_weekday


def test_book_a_kit_and_list_its_bookings_through_the_api(app, world, db_session):
    api = app.test_client()
    secret = api_token(app, world.users["director"], scope="write")
    day = next_weekday(1)
    body = {
        "day": day.isoformat(),
        "start": "09:00",
        "end": "10:30",
        "group_label": "CM1 B",
        "booked_by": "Mme Lefèvre",
        "until": (day + timedelta(weeks=2)).isoformat(),
    }
    made = api.post(f"/api/v1/kits/{world.kit_id}/bookings", json=body, headers=bearer(secret))
    assert made.status_code == 201, made.json
    assert [b["group_label"] for b in made.json["items"]] == ["CM1 B"] * 3
    assert made.json["items"][0]["local_start"].startswith(f"{day.isoformat()}T09:00")
    clash = api.post(
        f"/api/v1/kits/{world.kit_id}/bookings",
        json={**body, "group_label": "CE2", "until": None, "start": "10:00", "end": "11:00"},
        headers=bearer(secret),
    )
    assert clash.status_code == 422 and "CM1 B" in clash.text
    first = api.get(f"/api/v1/kits/{world.kit_id}/bookings?limit=2", headers=bearer(secret))
    assert first.status_code == 200 and first.json["total"] == 3
    rest = api.get(
        f"/api/v1/kits/{world.kit_id}/bookings?limit=2&cursor={first.json['next_cursor']}",
        headers=bearer(secret),
    )
    ids = [b["id"] for b in first.json["items"] + rest.json["items"]]
    assert len(set(ids)) == 3 and ids == sorted(ids, reverse=True)
    other = api_token(app, world.users["other"], scope="write")
    assert (
        api.get(f"/api/v1/kits/{world.kit_id}/bookings", headers=bearer(other)).status_code == 404
    )


def test_the_loans_list_gives_no_family_data(app, world, db_session):
    ecole = db_session.get(Ecole, world.ecole_id)
    who = Borrower(
        BorrowerKind.FAMILY,
        pupil_first_name="Inès",
        pupil_class="CM2",
        guardian_name="Karim Benali",
        guardian_contact="06 12 34 56 78",
    )
    laptop = item(db_session, ecole, "pc_eleve")
    check_out(db_session, ADMIN, laptop, who, starts_on=date.today(), due_on=date.today())
    api = app.test_client()
    answer = api.get(
        "/api/v1/loans?status=out", headers=bearer(api_token(app, world.users["auditor"]))
    )
    assert answer.status_code == 200
    assert [(x["asset_id"], x["borrower_kind"]) for x in answer.json["items"]] == [
        (laptop.id, "family")
    ]
    assert "Benali" not in answer.text and "Inès" not in answer.text and "06 12" not in answer.text
    other = api.get("/api/v1/loans", headers=bearer(api_token(app, world.users["other"])))
    assert other.json["items"] == []
