"""Equipment items made through the forms, and the schools the equipment tests work in."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from inventory.assets.socle import TARGET_LEVELS
from inventory.orgs.models import Ecole, SchoolNature


def tags_in(html: str) -> set[str]:
    return set(re.findall(r"<code>([A-Z]{3}-\d{4}-\d{5})</code>", html))


def count(db_session, model) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


def english(client):
    assert client.post("/language", data={"lang": "en", "next": "/"}).status_code == 302
    return client


def target_school(db_session, collectivite_id: int) -> Ecole:
    """The first elementary school of a collectivité with at least two target classrooms."""
    for ecole in db_session.scalars(
        select(Ecole)
        .where(Ecole.collectivite_id == collectivite_id, Ecole.nature != SchoolNature.MATERNELLE)
        .order_by(Ecole.id)
    ):
        rooms = [r for r in ecole.classrooms if set(r.level_list) & set(TARGET_LEVELS)]
        if len(rooms) >= 2:
            return ecole
    raise AssertionError("no elementary school with classrooms")


def item(cats, **data) -> dict[str, str]:
    return {
        "category": str(cats["eni"]),
        "manufacturer": "Speechi",
        "model": "SpeechiTouch 75",
        "status": "delivered",
        **data,
    }


def add(client, cats, room_id: int, **data):
    return client.post(f"/equipements/nouveau?classroom={room_id}", data=item(cats, **data))


def added_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(re.fullmatch(r"/equipements/(\d+)", response.location).group(1))
