"""Builders shared by the tests of tests/training and the training journey: the schools,
a signed-in client, sessions and items made through the services."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import AssetStatus, StatusChange
from inventory.orgs.models import Classroom
from inventory.training.models import (
    SessionFormat,
    SessionMode,
    TrainingSession,
)
from inventory.training.sessions import (
    Report,
    SessionFields,
    plan_session,
    record_session,
)
from inventory.training.times import LOCAL_TZ
from tests.conftest import ADMIN, login

# Three elementary schools of the circonscription Créteil 1 (collectivité Créteil), and one
# of the circonscription of Fresnes.
A1, A2, A3 = "0941127P", "0942147Y", "0941254C"
B1 = "0940176F"


def client_for(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    client.post("/language", data={"lang": "en", "next": "/"})
    return client


def session_at(
    db_session,
    school_ids,
    starts_at,
    *,
    title="Prise en main de l'ENI",
    held=False,
    topics=(),
    trainers=(("Élise Martin", "ERUN Créteil 1"),),
    duration=90,
):
    """A session made through the service (as an administrator), held if asked."""
    start = starts_at.astimezone(LOCAL_TZ)
    ts = plan_session(
        db_session,
        ADMIN,
        SessionFields(
            title=title,
            day=start.date(),
            start=start.time().replace(tzinfo=None),
            duration_minutes=duration,
            mode=SessionMode.ON_SITE,
            format=SessionFormat.WORKSHOP,
            school_ids=list(school_ids),
            topic_ids=list(topics),
            external_trainers=list(trainers),
        ),
    )
    if held:
        record_session(
            db_session,
            ADMIN,
            ts,
            Report(teachers=4, directors=1, municipal_staff=0),
            version=ts.version,
        )
    return ts


def in_service(db_session, ecole_id, at, category="eni"):
    """An item put in service at ``at`` in the school's first classroom."""
    room = db_session.scalar(
        select(Classroom).where(Classroom.ecole_id == ecole_id).order_by(Classroom.id).limit(1)
    )
    cat = catalogue.category_by_code(db_session, category)
    model = catalogue.get_or_create_model(db_session, "Speechi", f"Modèle {category}", cat)
    where = lifecycle.Where(room.ecole.collectivite, room.ecole, room)
    asset = lifecycle.create_asset(
        db_session, ADMIN, where=where, model=model, status=AssetStatus.IN_SERVICE
    )
    db_session.execute(update(StatusChange).where(StatusChange.asset_id == asset.id).values(at=at))
    db_session.commit()
    return asset


def days_ago(n: int, hour: int = 10) -> datetime:
    day = datetime.now(LOCAL_TZ).date() - timedelta(days=n)
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ).astimezone(UTC)


def plan_form(world, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Prise en main des ENI — CP et CE1",
        "day": (date.today() + timedelta(days=7)).isoformat(),
        "start": "14:30",
        "duration": "120",
        "mode": "on_site",
        "format": "workshop",
        "place": "Salle polyvalente",
        "schools": [world.ids[A1], world.ids[A2]],
        "topics": [world.topics["prise_en_main_eni"], world.topics["tablettes"]],
        "categories": [world.categories["eni"]],
        "external-0-name": "Paul Durand",
        "external-0-organisation": "Canopé",
        "external-1-name": "",
        "external-1-organisation": "",
        "expense": "0",
        "notes": "",
        "save": "1",
    }
    data.update(extra)
    return data


def version_of(db_session, session_id: int) -> int:
    db_session.expire_all()
    return db_session.get(TrainingSession, session_id).version
