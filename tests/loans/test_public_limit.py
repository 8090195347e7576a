"""The public booking link is rate limited per address (LOANS_PUBLIC_BOOKING_LIMIT): a
flood of bookings is refused with 429, the page itself stays readable."""

from __future__ import annotations

import pytest

from tests.loans.builders import next_weekday


@pytest.fixture
def app_config(tmp_path):
    return {"STORAGE_PATH": str(tmp_path / "files"), "LOANS_PUBLIC_BOOKING_LIMIT": "2 per hour"}


def test_a_flood_of_public_bookings_is_refused(app, world):
    client = app.test_client()
    day = next_weekday(4)
    answers = [
        client.post(
            f"/reserver/{world.token}",
            data={
                "day": day.isoformat(),
                "start": f"{8 + i:02d}:00",
                "end": f"{8 + i:02d}:45",
                "group_label": "CP",
                "booked_by": "Mme Roy",
            },
        ).status_code
        for i in range(3)
    ]
    assert answers == [200, 200, 429]
    assert client.get(f"/reserver/{world.token}").status_code == 200
