"""Sessions planned, edited, recorded once held, cancelled and planned again.

Services take the acting user and never read the request. Every write needs the session
editable by the user and the version it was loaded with (:mod:`inventory.training.editing`);
the change log records the session's columns and linked rows (schools, topics, items,
trainers, participants, follow-ups) as its model declares them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import Asset, EquipmentCategory
from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.policy import Action, Subject
from inventory.core.versioning import check_version, guarded
from inventory.orgs.models import Classroom, Ecole
from inventory.training.choices import (
    ROLE_LABELS,
    assets_of_schools,
    categories,
    expense_candidates,
    topics,
    trainer_candidates,
)
from inventory.training.editing import (
    TrainingError,
    commit,
    lost_race,
    require_editable,
    require_train,
    stale_form,
)
from inventory.training.models import (
    Attendee,
    AttendeeRole,
    FollowUpAction,
    SessionFormat,
    SessionMode,
    SessionStatus,
    Trainer,
    TrainingSession,
    TrainingTopic,
)
from inventory.training.times import to_utc

MIN_DURATION, MAX_DURATION = 10, 720
MAX_SCHOOLS = 60
MAX_COUNT = 2000


def session_detail(
    session: Session, user: Subject, session_id: int, action: Action = Action.READ
) -> TrainingSession:
    """The session the user may read (or act on, with ``action``), with everything its
    pages show."""
    ts = policy.load_or_404(user, TrainingSession, session_id, session, action)
    # Loaded now so that the templates trigger no query.
    session.scalars(
        select(TrainingSession)
        .where(TrainingSession.id == ts.id)
        .options(
            selectinload(TrainingSession.schools).selectinload(Ecole.commune),
            selectinload(TrainingSession.schools).selectinload(Ecole.classrooms),
            selectinload(TrainingSession.topics),
            selectinload(TrainingSession.categories),
            selectinload(TrainingSession.assets).selectinload(Asset.category),
            selectinload(TrainingSession.assets).selectinload(Asset.classroom),
            selectinload(TrainingSession.assets).selectinload(Asset.model),
            selectinload(TrainingSession.trainers),
            selectinload(TrainingSession.attendees).selectinload(Attendee.ecole),
            selectinload(TrainingSession.attendees).selectinload(Attendee.classroom),
            selectinload(TrainingSession.follow_ups),
            selectinload(TrainingSession.documents),
        )
    ).all()
    return ts


# -- planning ------------------------------------------------------------------------------
@dataclass
class SessionFields:
    title: str = ""
    day: date | None = None
    start: time | None = None
    duration_minutes: int | None = None
    mode: SessionMode = SessionMode.ON_SITE
    format: SessionFormat = SessionFormat.WORKSHOP
    place: str | None = None
    school_ids: list[int] = field(default_factory=list)
    topic_ids: list[int] = field(default_factory=list)
    category_ids: list[int] = field(default_factory=list)
    asset_ids: list[int] = field(default_factory=list)
    trainer_user_ids: list[int] = field(default_factory=list)
    #: (name, organisation) of trainers without an account.
    external_trainers: list[tuple[str, str]] = field(default_factory=list)
    expense_id: int | None = None
    notes: str | None = None

    def check(self) -> SessionFields:
        title = " ".join((self.title or "").split())
        if not title:
            raise TrainingError(_l("Give the session a title."), field="title")
        if len(title) > 200:
            raise TrainingError(_l("At most 200 characters."), field="title")
        if self.day is None:
            raise TrainingError(_l("Give the date."), field="day")
        if self.start is None:
            raise TrainingError(_l("Give the start time."), field="start")
        if self.duration_minutes is None or not (
            MIN_DURATION <= self.duration_minutes <= MAX_DURATION
        ):
            raise TrainingError(
                _l(
                    "The duration is between %(low)d and %(high)d minutes.",
                    low=MIN_DURATION,
                    high=MAX_DURATION,
                ),
                field="duration",
            )
        if not self.school_ids:
            raise TrainingError(_l("Choose at least one school."), field="schools")
        if len(set(self.school_ids)) > MAX_SCHOOLS:
            raise TrainingError(
                _l("At most %(n)d schools per session.", n=MAX_SCHOOLS), field="schools"
            )
        externals = []
        for name, organisation in self.external_trainers:
            name, organisation = " ".join(name.split()), " ".join(organisation.split())
            if not name and organisation:
                raise TrainingError(
                    _l("Give the name of the trainer from %(org)s.", org=organisation),
                    field="external",
                )
            if name:
                externals.append((name[:150], organisation[:150]))
        place = " ".join((self.place or "").split())[:200] or None
        notes = (self.notes or "").strip() or None
        return SessionFields(
            **{
                **self.__dict__,
                "title": title,
                "place": place,
                "notes": notes,
                "external_trainers": externals,
                "school_ids": sorted(set(self.school_ids)),
            }
        )


def _schools_in_scope(session: Session, user: Subject, ids: Sequence[int]) -> list[Ecole]:
    """The chosen schools, all of them in scope: a school out of scope answers 404."""
    found = list(
        session.scalars(
            policy.visible(user, select(Ecole).where(Ecole.id.in_(list(ids))), Ecole).order_by(
                Ecole.name, Ecole.id
            )
        )
    )
    if len(found) != len(set(ids)):
        raise policy.Denied()
    return found


@dataclass
class _Resolved:
    schools: list[Ecole]
    topics: list[TrainingTopic]
    categories: list[EquipmentCategory]
    assets: list[Asset]
    trainers: list[Trainer]
    expense_id: int | None


def _resolve(
    session: Session, user: Subject, fields: SessionFields, ts: TrainingSession | None
) -> _Resolved:
    schools = _schools_in_scope(session, user, fields.school_ids)
    school_ids = [e.id for e in schools]
    current_topics = [t.id for t in ts.topics] if ts else []
    wanted = set(fields.topic_ids)
    chosen_topics = [t for t in topics(session, current_topics) if t.id in wanted]
    if len(chosen_topics) != len(wanted):
        raise TrainingError(_l("Choose topics from the list."), field="topics")
    wanted = set(fields.category_ids)
    chosen_categories = [c for c in categories(session) if c.id in wanted]
    if len(chosen_categories) != len(wanted):
        raise TrainingError(_l("Choose equipment categories from the list."), field="categories")
    wanted = set(fields.asset_ids)
    chosen_assets = [a for a in assets_of_schools(session, user, school_ids) if a.id in wanted]
    if len(chosen_assets) != len(wanted):
        raise TrainingError(
            _l("Choose items of the session's schools (in service or about to be)."),
            field="assets",
        )
    trainers = _trainers(session, user, fields, ts)
    expense_id = None
    if fields.expense_id:
        if fields.expense_id not in {e.id for e in expense_candidates(session, user, school_ids)}:
            raise TrainingError(
                _l(
                    "Choose an expense of an accompaniment volet whose dossier covers all "
                    "the session's schools."
                ),
                field="expense",
            )
        expense_id = fields.expense_id
    return _Resolved(schools, chosen_topics, chosen_categories, chosen_assets, trainers, expense_id)


def _trainers(
    session: Session, user: Subject, fields: SessionFields, ts: TrainingSession | None
) -> list[Trainer]:
    candidates = {u.id: u for u in trainer_candidates(session, user)}
    # A trainer already named on the session stays choosable even if their scope moved.
    kept = {t.user_id: t for t in (ts.trainers if ts else []) if t.user_id is not None}
    out: list[Trainer] = []
    for user_id in dict.fromkeys(fields.trainer_user_ids):
        if user_id in kept:
            old = kept[user_id]
            out.append(Trainer(user_id=user_id, name=old.name, organisation=old.organisation))
        elif user_id in candidates:
            out.append(Trainer(user_id=user_id, name=candidates[user_id].name))
        else:
            raise TrainingError(_l("Choose trainers from the list."), field="trainer_users")
    for name, organisation in fields.external_trainers:
        out.append(Trainer(user_id=None, name=name, organisation=organisation or None))
    if not out:
        raise TrainingError(
            _l("Name at least one trainer: a Socle account or someone from outside."),
            field="trainer_users",
        )
    return out


def _same_trainers(old: Sequence[Trainer], new: Sequence[Trainer]) -> bool:
    key = [(t.user_id, t.name, t.organisation) for t in old]
    return key == [(t.user_id, t.name, t.organisation) for t in new]


def _apply(ts: TrainingSession, fields: SessionFields, resolved: _Resolved) -> None:
    assert fields.day is not None and fields.start is not None
    ts.title = fields.title
    ts.starts_at = to_utc(fields.day, fields.start)
    ts.duration_minutes = fields.duration_minutes or MIN_DURATION
    ts.mode = fields.mode
    ts.format = fields.format
    ts.place = fields.place
    ts.notes = fields.notes
    ts.expense_id = resolved.expense_id
    ts.schools = resolved.schools
    ts.topics = resolved.topics
    ts.categories = resolved.categories
    ts.assets = resolved.assets
    if not _same_trainers(ts.trainers, resolved.trainers):
        ts.trainers = resolved.trainers


def plan_session(session: Session, user: Subject, fields: SessionFields) -> TrainingSession:
    """A new planned session (or one already held, recorded afterwards through
    :func:`record_session`)."""
    require_train(user)
    fields = fields.check()
    ts = TrainingSession(status=SessionStatus.PLANNED, created_by_id=getattr(user, "id", None))
    _apply(ts, fields, _resolve(session, user, fields, None))
    session.add(ts)
    commit(session)
    return ts


@guarded(lost_race)
def update_session(
    session: Session, user: Subject, ts: TrainingSession, fields: SessionFields, *, version: int
) -> TrainingSession:
    require_editable(session, user, ts)
    check_version(ts, version, stale_form())
    fields = fields.check()
    resolved = _resolve(session, user, fields, ts)
    # No flush half-way (loading a collection to replace it would flush the columns set
    # before it): the save is one change-log record.
    with session.no_autoflush:
        _apply(ts, fields, resolved)
    commit(session)
    return ts


# -- the record of what happened -----------------------------------------------------------
@dataclass
class AttendeeInput:
    name: str
    role: AttendeeRole = AttendeeRole.TEACHER
    ecole_id: int | None = None
    classroom_id: int | None = None


@dataclass
class ActionInput:
    text: str
    due_on: date | None = None
    done: bool = False


@dataclass
class Report:
    teachers: int | None = None
    directors: int | None = None
    municipal_staff: int | None = None
    satisfaction: int | None = None
    feedback: str | None = None
    attendees: list[AttendeeInput] = field(default_factory=list)
    actions: list[ActionInput] = field(default_factory=list)


def _count(value: int | None, name: str) -> int:
    if value is None:
        raise TrainingError(_l("Give the number, 0 if nobody."), field=name)
    if not 0 <= value <= MAX_COUNT:
        raise TrainingError(_l("Give a number between 0 and %(n)d.", n=MAX_COUNT), field=name)
    return value


def _attendees(session: Session, ts: TrainingSession, rows: list[AttendeeInput]) -> list[Attendee]:
    school_ids = {e.id for e in ts.schools}
    rooms = dict(
        session.execute(
            select(Classroom.id, Classroom.ecole_id).where(Classroom.ecole_id.in_(school_ids))
        ).all()
    )
    out = []
    for row in rows:
        name = " ".join(row.name.split())[:150]
        if not name:
            raise TrainingError(_l("Give each named participant's name."), field="attendees")
        ecole_id = row.ecole_id or None
        classroom_id = row.classroom_id or None
        if classroom_id is not None:
            if classroom_id not in rooms:
                raise TrainingError(
                    _l("Choose a classroom of the session's schools."), field="attendees"
                )
            if ecole_id is not None and rooms[classroom_id] != ecole_id:
                raise TrainingError(
                    _l("%(name)s: the classroom is not in the chosen school.", name=name),
                    field="attendees",
                )
            ecole_id = rooms[classroom_id]
        if ecole_id is not None and ecole_id not in school_ids:
            raise TrainingError(_l("Choose one of the session's schools."), field="attendees")
        out.append(Attendee(name=name, role=row.role, ecole_id=ecole_id, classroom_id=classroom_id))
    return out


@guarded(lost_race)
def record_session(
    session: Session,
    user: Subject,
    ts: TrainingSession,
    report: Report,
    *,
    version: int,
    now: datetime | None = None,
) -> TrainingSession:
    """Record what happened: the session becomes held (a held session's record may be
    corrected the same way)."""
    require_editable(session, user, ts)
    check_version(ts, version, stale_form())
    if ts.status is SessionStatus.CANCELLED:
        raise TrainingError(_l("A cancelled session cannot be recorded."), field="teachers")
    if ts.starts_at > (now or utcnow()):
        raise TrainingError(
            _l("The session has not started yet: record it once it has taken place."),
            field="teachers",
        )
    counts = {
        name: _count(getattr(report, name), name)
        for name in ("teachers", "directors", "municipal_staff")
    }
    if report.satisfaction is not None and not 1 <= report.satisfaction <= 5:
        raise TrainingError(_l("The satisfaction is rated from 1 to 5."), field="satisfaction")
    attendees = _attendees(session, ts, report.attendees)
    named: defaultdict[str, int] = defaultdict(int)
    for a in attendees:
        named[a.role] += 1
    for role, name in (
        (AttendeeRole.TEACHER, "teachers"),
        (AttendeeRole.DIRECTOR, "directors"),
        (AttendeeRole.MUNICIPAL, "municipal_staff"),
    ):
        if named[role] > counts[name]:
            raise TrainingError(
                _l(
                    "%(named)d participants named as %(role)s, but %(count)d counted.",
                    named=named[role],
                    role=ROLE_LABELS[role],
                    count=counts[name],
                ),
                field=name,
            )
    actions = []
    for row in report.actions:
        text = " ".join(row.text.split())
        if not text:
            raise TrainingError(_l("Describe each follow-up action."), field="actions")
        actions.append(FollowUpAction(text=text[:300], due_on=row.due_on, done=row.done))
    with session.no_autoflush:  # one save, one change-log record (see update_session)
        ts.status = SessionStatus.HELD
        ts.teachers = counts["teachers"]
        ts.directors = counts["directors"]
        ts.municipal_staff = counts["municipal_staff"]
        ts.satisfaction = report.satisfaction
        ts.feedback = (report.feedback or "").strip() or None
        if [(a.name, a.role, a.ecole_id, a.classroom_id) for a in ts.attendees] != [
            (a.name, a.role, a.ecole_id, a.classroom_id) for a in attendees
        ]:
            ts.attendees = attendees
        if [(a.text, a.due_on, a.done) for a in ts.follow_ups] != [
            (a.text, a.due_on, a.done) for a in actions
        ]:
            ts.follow_ups = actions
    commit(session)
    return ts


# -- cancel, plan again ---------------------------------------------------------------------
@guarded(lost_race)
def cancel_session(
    session: Session, user: Subject, ts: TrainingSession, *, version: int
) -> TrainingSession:
    require_editable(session, user, ts)
    check_version(ts, version, stale_form())
    if ts.status is not SessionStatus.PLANNED:
        raise TrainingError(_l("Only a planned session can be cancelled."))
    ts.status = SessionStatus.CANCELLED
    commit(session)
    return ts


@guarded(lost_race)
def reopen_session(
    session: Session, user: Subject, ts: TrainingSession, *, version: int
) -> TrainingSession:
    """Plan a cancelled session again."""
    require_editable(session, user, ts)
    check_version(ts, version, stale_form())
    if ts.status is not SessionStatus.CANCELLED:
        raise TrainingError(_l("Only a cancelled session can be planned again."))
    ts.status = SessionStatus.PLANNED
    commit(session)
    return ts
