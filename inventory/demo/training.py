"""The demo's training sessions, by the circonscription's trainer: two held and recorded
(with their named participants and follow-up actions), one held but not recorded yet,
two upcoming. Their dates follow the day the demo is loaded (past sessions must have
taken place to be recorded): always the same days relative to it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.auth.models import User
from inventory.core import audit
from inventory.training.models import AttendeeRole, SessionFormat, SessionMode, TrainingTopic
from inventory.training.sessions import (
    ActionInput,
    AttendeeInput,
    Report,
    SessionFields,
    plan_session,
    record_session,
)

from .clock import on
from .equipment import Equipment

# (the day: a date, or days from the load date; start, minutes, title, topics, format,
# mode, held report). The held ones follow the equipment of 2021-2022; the others are recent.
Planned = tuple[
    date | int,
    time,
    int,
    str,
    tuple[str, ...],
    SessionFormat,
    SessionMode,
    tuple[int, int, int, int] | None,
]
PLAN: tuple[Planned, ...] = (
    (
        date(2021, 11, 18),
        time(9, 0),
        180,
        "Prise en main des écrans numériques interactifs",
        ("prise_en_main_eni",),
        SessionFormat.WORKSHOP,
        SessionMode.ON_SITE,
        (9, 2, 1, 5),
    ),
    (
        date(2022, 4, 7),
        time(13, 30),
        120,
        "Le visualiseur en classe : usages en sciences",
        ("visualiseur",),
        SessionFormat.DEMONSTRATION,
        SessionMode.ON_SITE,
        (6, 1, 0, 4),
    ),
    (
        -3,
        time(17, 0),
        60,
        "Tablettes : gérer la classe mobile",
        ("tablettes",),
        SessionFormat.REMOTE_FOLLOW_UP,
        SessionMode.REMOTE,
        None,
    ),
    (
        9,
        time(9, 0),
        180,
        "ENT et partage des travaux d'élèves",
        ("ent",),
        SessionFormat.WORKSHOP,
        SessionMode.ON_SITE,
        None,
    ),
    (
        23,
        time(14, 0),
        90,
        "Ressources numériques et Pix en cycle 3",
        ("ressources", "pix"),
        SessionFormat.WORKSHOP,
        SessionMode.ON_SITE,
        None,
    ),
)
TEACHERS = ("Claire Martin", "Julien Petit", "Nadia Benali", "Sophie Laurent", "Marc Dubois")


def load_training(
    session: Session, trainer: User, equipment: Equipment, today: date
) -> Iterator[str]:
    scope_ids = {s.ref_id for s in trainer.scopes}
    schools = [e for e in equipment.schools if e.circonscription_id in scope_ids]
    if not schools:
        yield "Training: no equipped school in the trainer's circonscription."
        return
    topics = dict(session.execute(select(TrainingTopic.code, TrainingTopic.id)).all())
    held = planned = 0
    with audit.acting_as(audit.Actor(trainer.id, trainer.name)):
        for n, (when, start, minutes, title, codes, fmt, mode, counts) in enumerate(PLAN):
            day = when if isinstance(when, date) else today + timedelta(days=when)
            planned_on = min(day, today) - timedelta(days=21)
            chosen = [schools[(n + k) % len(schools)] for k in range(2)]
            chosen = list({e.id: e for e in chosen}.values())
            with on(planned_on, 11):
                ts = plan_session(
                    session,
                    trainer,
                    SessionFields(
                        title=title,
                        day=day,
                        start=start,
                        duration_minutes=minutes,
                        mode=mode,
                        format=fmt,
                        place=None if mode is SessionMode.REMOTE else f"{chosen[0].name}",
                        school_ids=[e.id for e in chosen],
                        topic_ids=[topics[c] for c in codes if c in topics],
                        trainer_user_ids=[trainer.id],
                    ),
                )
            if counts is None:
                planned += day > today
                continue
            teachers, directors, municipal, satisfaction = counts
            rooms = sorted(chosen[0].classrooms, key=lambda r: (r.position, r.id))
            with on(day, 18, days=1):
                record_session(
                    session,
                    trainer,
                    ts,
                    Report(
                        teachers=teachers,
                        directors=directors,
                        municipal_staff=municipal,
                        satisfaction=satisfaction,
                        feedback="Participants très demandeurs d'un second temps sur les usages.",
                        attendees=[
                            AttendeeInput(name, AttendeeRole.TEACHER, chosen[0].id, room.id)
                            for name, room in zip(TEACHERS, rooms, strict=False)
                        ]
                        + [
                            AttendeeInput(
                                "Directrice de l'école", AttendeeRole.DIRECTOR, chosen[0].id
                            )
                        ],
                        actions=[
                            ActionInput("Partager le support de la séance sur l'ENT", done=True),
                            ActionInput(
                                "Visite en classe pour accompagner les premiers usages",
                                due_on=today + timedelta(days=30),
                            ),
                        ],
                    ),
                    version=ts.version,
                )
            held += 1
    yield (
        f"Training: {len(PLAN)} sessions in {len(schools)} schools of the trainer's "
        f"circonscription ({held} held and recorded, {len(PLAN) - held - planned} held "
        f"awaiting its record, {planned} upcoming)"
    )
