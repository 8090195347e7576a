"""Accompaniment sessions and items in service, made through the services; the schools
the training tests use."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, update

from inventory.assets import services as equip
from inventory.assets.models import AssetStatus, StatusChange
from inventory.orgs.models import Classroom
from inventory.training.models import (
    SessionFormat,
    SessionMode,
)
from inventory.training.sessions import (
    Report,
    SessionFields,
    plan_session,
    record_session,
)
from inventory.training.times import LOCAL_TZ
from tests.factories.registry import ADMIN, login

# Three elementary schools of the circonscription Créteil 1 (collectivité Créteil), and one
# of the circonscription of Fresnes.
A1, A2, A3 = "0941127P", "0942147Y", "0941254C"
B1 = "0940176F"


class Users(dict):
    """Accounts made on first use: {name: email}."""

    def __init__(self, make_user, specs):
        super().__init__()
        self.make_user, self.specs = make_user, specs

    def __missing__(self, name):
        role, scopes = self.specs[name]
        self[name] = self.make_user(role, scopes, email=f"{name}@example.org")
        return self[name]


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
    cat = equip.category_by_code(db_session, category)
    model = equip.get_or_create_model(db_session, "Speechi", f"Modèle {category}", cat)
    where = equip.Where(room.ecole.collectivite, room.ecole, room)
    asset = equip.create_asset(
        db_session, ADMIN, where=where, model=model, status=AssetStatus.IN_SERVICE
    )
    db_session.execute(update(StatusChange).where(StatusChange.asset_id == asset.id).values(at=at))
    db_session.commit()
    return asset


def days_ago(n: int, hour: int = 10) -> datetime:
    day = datetime.now(LOCAL_TZ).date() - timedelta(days=n)
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ).astimezone(UTC)
