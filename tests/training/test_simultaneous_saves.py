"""A training session saved twice at the same instant, through the services on the real
database: two trainers, each in an app context (so a session and a connection) of their
own, load the same version, then both save it. One save wins; the other gets the
session's conflict, and nothing of it is written."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from flask import Flask

from inventory.core.db import utcnow
from inventory.extensions import db
from inventory.training.editing import ConflictError
from inventory.training.models import SessionFormat, SessionMode, SessionStatus, TrainingSession
from inventory.training.sessions import (
    SessionFields,
    cancel_session,
    reopen_session,
    update_session,
)
from inventory.training.times import LOCAL_TZ
from tests.concurrently import simultaneously
from tests.conftest import ADMIN
from tests.training.builders import A1, A2, session_at

ROUNDS = 20


def _fields(title: str, school_ids: list[int]) -> SessionFields:
    start = (utcnow() + timedelta(days=7)).astimezone(LOCAL_TZ)
    return SessionFields(
        title=title,
        day=start.date(),
        start=start.time().replace(tzinfo=None, second=0, microsecond=0),
        duration_minutes=90,
        mode=SessionMode.ON_SITE,
        format=SessionFormat.WORKSHOP,
        school_ids=school_ids,
        external_trainers=[("Élise Martin", "ERUN Créteil 1")],
    )


def _edit(title: str, schools: list[int], version: int, ts: TrainingSession) -> None:
    update_session(db.session, ADMIN, ts, _fields(title, schools), version=version)


def _cancel(version: int, ts: TrainingSession) -> None:
    cancel_session(db.session, ADMIN, ts, version=version)


def _save(app: Flask, session_id: int, change) -> str:
    """One trainer's save, in an app context of its own: "saved" or "conflict"."""
    with app.app_context():
        ts = db.session.get(TrainingSession, session_id)
        try:
            change(ts)
        except ConflictError:
            db.session.rollback()
            return "conflict"
        finally:
            db.session.remove()
        return "saved"


def _now(db_session, session_id: int) -> TrainingSession:
    db_session.expire_all()
    return db_session.get(TrainingSession, session_id)


def test_two_edits_of_a_session_at_the_same_instant(app, registry, db_session):
    schools = [registry["schools"][A1][0], registry["schools"][A2][0]]
    session_id = session_at(db_session, schools[:1], utcnow() + timedelta(days=7)).id
    for round_ in range(ROUNDS):
        version = _now(db_session, session_id).version
        mine = (f"Prise en main, tour {round_} (A)", schools[:1])
        theirs = (f"Prise en main, tour {round_} (B)", schools)

        results = simultaneously(
            TrainingSession,
            partial(_save, app, session_id, partial(_edit, *mine, version)),
            partial(_save, app, session_id, partial(_edit, *theirs, version)),
        )

        assert sorted(results) == ["conflict", "saved"], (round_, results)
        title, covered = (mine, theirs)[results.index("saved")]
        after = _now(db_session, session_id)
        # The winner's save whole (title and schools), nothing of the other one.
        assert after.title == title
        assert sorted(e.id for e in after.schools) == sorted(covered)
        assert after.version > version


def test_an_edit_and_a_cancellation_at_the_same_instant(app, registry, db_session):
    school = registry["schools"][A1][0]
    session_id = session_at(db_session, [school], utcnow() + timedelta(days=7)).id
    for round_ in range(ROUNDS):
        before = _now(db_session, session_id)
        if before.status is SessionStatus.CANCELLED:
            reopen_session(db_session, ADMIN, before, version=before.version)
        before = _now(db_session, session_id)
        version, title = before.version, f"Atelier ENI, tour {round_}"

        edited, cancelled = simultaneously(
            TrainingSession,
            partial(_save, app, session_id, partial(_edit, title, [school], version)),
            partial(_save, app, session_id, partial(_cancel, version)),
        )

        assert sorted([edited, cancelled]) == ["conflict", "saved"], (round_, edited, cancelled)
        after = _now(db_session, session_id)
        if edited == "saved":
            assert (after.title, after.status) == (title, SessionStatus.PLANNED)
        else:
            assert after.status is SessionStatus.CANCELLED and after.title != title
