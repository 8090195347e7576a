"""Accompaniment sessions: planning, records, attachments, calendar feed and coverage.

Services take the acting user and never read the request. Every read goes through the
policy; every write needs ``Action.TRAIN`` and *all* the session's schools in the user's
scope (a session shared with a school out of scope is readable, not editable).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from inventory.assets.models import Asset, AssetStatus, EquipmentCategory, StatusChange
from inventory.auth.models import User, UserScope
from inventory.core import audit, errors, policy, uploads
from inventory.core.audit import AuditRecord
from inventory.core.db import utcnow
from inventory.core.errors import DomainError
from inventory.core.pagination import Page, paginate
from inventory.core.policy import Action, Role, ScopeKind, Subject
from inventory.grants.models import Dossier, DossierSchool, Expense
from inventory.orgs.models import (
    Circonscription,
    Classroom,
    Collectivite,
    Commune,
    Ecole,
    SchoolStatus,
)
from inventory.training.models import (
    Attendee,
    AttendeeRole,
    FollowUpAction,
    SessionFormat,
    SessionMode,
    SessionStatus,
    Trainer,
    TrainingDocument,
    TrainingSession,
    TrainingTopic,
    session_schools,
)

#: Sessions are typed and shown in the schools' time (metropolitan France), stored in UTC.
LOCAL_TZ = ZoneInfo("Europe/Paris")
#: The grant volet whose expense lines may fund a session.
ACCOMPANIMENT_VOLET = "accompagnement"
DEFAULT_DELAY_DAYS = 60
MAX_DELAY_DAYS = 3650
MIN_DURATION, MAX_DURATION = 10, 720
MAX_SCHOOLS = 60
MAX_COUNT = 2000
DOCUMENT_MAX_BYTES = 20 * 1024 * 1024

MODE_LABELS = {SessionMode.ON_SITE: _l("on site"), SessionMode.REMOTE: _l("remote")}
FORMAT_LABELS = {
    SessionFormat.WORKSHOP: _l("hands-on workshop"),
    SessionFormat.DEMONSTRATION: _l("demonstration"),
    SessionFormat.CONFERENCE: _l("conference"),
    SessionFormat.REMOTE_FOLLOW_UP: _l("remote follow-up"),
}
STATUS_LABELS = {
    SessionStatus.PLANNED: _l("planned"),
    SessionStatus.HELD: _l("held"),
    SessionStatus.CANCELLED: _l("cancelled"),
}
ROLE_LABELS = {
    AttendeeRole.TEACHER: _l("teacher"),
    AttendeeRole.DIRECTOR: _l("school director"),
    AttendeeRole.MUNICIPAL: _l("municipal staff"),
}


class TrainingError(DomainError):
    pass


class ConflictError(TrainingError, errors.ConflictError):
    """Someone else saved the session since it was loaded."""


# -- time --------------------------------------------------------------------------------
def to_utc(day: date, at: time) -> datetime:
    """A wall-clock time in Paris as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=LOCAL_TZ).astimezone(UTC)


def local(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL_TZ)


def local_day(moment: datetime) -> date:
    return local(moment).date()


def ends_at(ts: TrainingSession) -> datetime:
    return ts.starts_at + timedelta(minutes=ts.duration_minutes)


def to_record(ts: TrainingSession, now: datetime | None = None) -> bool:
    """A planned session whose start has passed: its record is expected."""
    return ts.status is SessionStatus.PLANNED and ts.starts_at <= (now or utcnow())


# -- guards ------------------------------------------------------------------------------
def _require_train(user: Subject) -> None:
    if not policy.allowed(user, Action.TRAIN):
        raise policy.Denied()


def _visible_school_count(session: Session, user: Subject, ids: Iterable[int]) -> int:
    ids = set(ids)
    if not ids:
        return 0
    stmt = select(func.count(Ecole.id)).where(Ecole.id.in_(ids), policy.condition(user, Ecole))
    return session.scalar(stmt) or 0


def may_edit(session: Session, user: Subject, ts: TrainingSession) -> bool:
    """Trainers (and admins) edit a session when every one of its schools is in scope."""
    if not policy.allowed(user, Action.TRAIN):
        return False
    ids = {e.id for e in ts.schools}
    return bool(ids) and _visible_school_count(session, user, ids) == len(ids)


def _require_editable(session: Session, user: Subject, ts: TrainingSession) -> None:
    if not may_edit(session, user, ts):
        raise policy.Denied()


def _check_version(loaded: int | None, ts: TrainingSession) -> None:
    if loaded is None or loaded != ts.version:
        raise ConflictError(
            _l(
                "Someone else saved this session while you were editing it. Nothing was "
                "saved: your entries are kept below, check them against the saved session "
                "and save again."
            )
        )


def _claim(session: Session, ts: TrainingSession, loaded: int) -> None:
    """Bump the version if it is still the one the form was loaded with (compare-and-swap),
    so that any write, even one touching only linked rows, moves the version on."""
    table = TrainingSession.__table__
    result = session.execute(
        update(table)
        .where(table.c.id == ts.id, table.c.version == loaded)
        .values(version=loaded + 1)
    )
    if result.rowcount != 1:
        session.rollback()
        _check_version(None, ts)
    set_committed_value(ts, "version", loaded + 1)


def _commit(session: Session) -> None:
    errors.commit(
        session,
        ConflictError(
            _l("Someone else saved this session at the same moment. Reload it and try again.")
        ),
    )


# -- change log of the linked rows ---------------------------------------------------------
def _snapshot(ts: TrainingSession) -> dict[str, Any]:
    """What the column-level change log cannot see: the session's linked rows, as text."""
    return {
        "schools": ", ".join(sorted(e.uai for e in ts.schools)),
        "topics": ", ".join(sorted(t.code for t in ts.topics)),
        "categories": ", ".join(sorted(c.code for c in ts.categories)),
        "assets": ", ".join(sorted(a.tag for a in ts.assets)),
        "trainers": "; ".join(
            f"{t.name} ({t.organisation})" if t.organisation else t.name for t in ts.trainers
        ),
        "attendees": len(ts.attendees),
        "follow_ups": "; ".join(a.text for a in ts.actions),
        "documents": "; ".join(d.filename for d in ts.documents),
    }


def _log_links(session: Session, ts: TrainingSession, before: dict[str, Any]) -> None:
    after = _snapshot(ts)
    changes = {k: [before[k] or None, after[k] or None] for k in after if before[k] != after[k]}
    if not changes:
        return
    actor = audit.current_actor()
    ecole_id, collectivite_id = ts.audit_scope
    session.add(
        AuditRecord(
            actor_id=actor.user_id,
            actor_label=actor.label,
            ip=actor.ip,
            action=audit.AuditAction.UPDATE.value,
            object_type=TrainingSession.__tablename__,
            object_id=ts.id,
            object_label=ts.audit_label,
            ecole_id=ecole_id,
            collectivite_id=collectivite_id,
            changes=changes,
        )
    )


# -- choices -----------------------------------------------------------------------------
def visible_schools(session: Session, user: Subject) -> list[Ecole]:
    """The open schools a session may be planned for, by name."""
    stmt = (
        select(Ecole)
        .where(Ecole.status != SchoolStatus.CLOSED)
        .options(selectinload(Ecole.commune))
        .order_by(Ecole.name, Ecole.id)
    )
    return list(session.scalars(policy.visible(user, stmt, Ecole)))


def topics(session: Session, include: Iterable[int] = ()) -> list[TrainingTopic]:
    stmt = select(TrainingTopic).where(
        or_(TrainingTopic.active.is_(True), TrainingTopic.id.in_(list(include)))
    )
    return list(session.scalars(stmt.order_by(TrainingTopic.position, TrainingTopic.id)))


def categories(session: Session) -> list[EquipmentCategory]:
    return list(session.scalars(select(EquipmentCategory).order_by(EquipmentCategory.position)))


def assets_of_schools(session: Session, user: Subject, school_ids: Sequence[int]) -> list[Asset]:
    """Items of these schools that a session can cover (not retired nor lost)."""
    if not school_ids:
        return []
    stmt = (
        select(Asset)
        .where(
            Asset.ecole_id.in_(list(school_ids)),
            Asset.status.not_in([AssetStatus.RETIRED, AssetStatus.LOST]),
        )
        .options(
            selectinload(Asset.category),
            selectinload(Asset.classroom),
            selectinload(Asset.ecole),
            selectinload(Asset.model),
        )
        .order_by(Asset.ecole_id, Asset.classroom_id, Asset.tag)
    )
    return list(session.scalars(policy.visible(user, stmt, Asset)))


def trainer_candidates(session: Session, user: Subject) -> list[User]:
    """Active trainer accounts whose scope meets the acting user's schools.

    Accounts are the administrators' business (the policy hides them); only their names
    are offered here, to name who ran a session."""
    stmt = select(User).where(User.role == Role.FORMATEUR, User.active.is_(True))
    if not user.scope.everything:
        in_scope = policy.condition(user, Ecole)
        covered = select(UserScope.user_id).where(
            or_(
                and_(
                    UserScope.kind == ScopeKind.CIRCONSCRIPTION,
                    UserScope.ref_id.in_(select(Ecole.circonscription_id).where(in_scope)),
                ),
                and_(
                    UserScope.kind == ScopeKind.DEPARTEMENT,
                    UserScope.ref_id.in_(select(Ecole.departement_id).where(in_scope)),
                ),
            )
        )
        stmt = stmt.where(User.id.in_(covered))
    return list(session.scalars(stmt.order_by(User.name, User.id)))


def expense_candidates(session: Session, user: Subject, school_ids: Sequence[int]) -> list[Expense]:
    """Expense lines of an "accompagnement" volet whose dossier covers all these schools."""
    ids = sorted(set(school_ids))
    if not ids:
        return []
    covering = (
        select(DossierSchool.dossier_id)
        .where(DossierSchool.ecole_id.in_(ids))
        .group_by(DossierSchool.dossier_id)
        .having(func.count(func.distinct(DossierSchool.ecole_id)) == len(ids))
    )
    stmt = (
        select(Expense)
        .join(Dossier, Dossier.id == Expense.dossier_id)
        .where(Expense.volet == ACCOMPANIMENT_VOLET, Expense.dossier_id.in_(covering))
        .options(selectinload(Expense.dossier))
        .order_by(Dossier.title, Expense.id)
    )
    return list(session.scalars(policy.visible(user, stmt, Expense)))


def expense_label(expense: Expense) -> str:
    dossier = expense.dossier
    name = dossier.reference or dossier.title
    return f"{name} — {expense.supplier} {expense.invoice_number}"


def expense_of(session: Session, user: Subject, ts: TrainingSession) -> Expense | None:
    """The funding expense, when the user may see its dossier."""
    if ts.expense_id is None:
        return None
    stmt = select(Expense).where(Expense.id == ts.expense_id).options(selectinload(Expense.dossier))
    return session.scalar(policy.visible(user, stmt, Expense))


# -- planning ----------------------------------------------------------------------------
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
    _require_train(user)
    fields = fields.check()
    ts = TrainingSession(status=SessionStatus.PLANNED, created_by_id=getattr(user, "id", None))
    _apply(ts, fields, _resolve(session, user, fields, None))
    session.add(ts)
    _commit(session)
    return ts


def update_session(
    session: Session, user: Subject, ts: TrainingSession, fields: SessionFields, *, version: int
) -> TrainingSession:
    _require_editable(session, user, ts)
    _check_version(version, ts)
    fields = fields.check()
    resolved = _resolve(session, user, fields, ts)
    before = _snapshot(ts)
    _claim(session, ts, version)
    _apply(ts, fields, resolved)
    _log_links(session, ts, before)
    _commit(session)
    return ts


# -- record --------------------------------------------------------------------------------
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
    _require_editable(session, user, ts)
    _check_version(version, ts)
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
    named = defaultdict(int)
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
    before = _snapshot(ts)
    _claim(session, ts, version)
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
    if [(a.text, a.due_on, a.done) for a in ts.actions] != [
        (a.text, a.due_on, a.done) for a in actions
    ]:
        ts.actions = actions
    _log_links(session, ts, before)
    _commit(session)
    return ts


def cancel_session(
    session: Session, user: Subject, ts: TrainingSession, *, version: int
) -> TrainingSession:
    _require_editable(session, user, ts)
    _check_version(version, ts)
    if ts.status is not SessionStatus.PLANNED:
        raise TrainingError(_l("Only a planned session can be cancelled."))
    _claim(session, ts, version)
    ts.status = SessionStatus.CANCELLED
    _commit(session)
    return ts


def reopen_session(
    session: Session, user: Subject, ts: TrainingSession, *, version: int
) -> TrainingSession:
    """Plan a cancelled session again."""
    _require_editable(session, user, ts)
    _check_version(version, ts)
    if ts.status is not SessionStatus.CANCELLED:
        raise TrainingError(_l("Only a cancelled session can be planned again."))
    _claim(session, ts, version)
    ts.status = SessionStatus.PLANNED
    _commit(session)
    return ts


# -- attachments -------------------------------------------------------------------------
DOCUMENT_TYPES = (uploads.PDF, uploads.JPEG, uploads.PNG, uploads.ODP, uploads.PPTX, uploads.DOCX)
#: Types a browser may show inline; anything else is downloaded.
INLINE_TYPES = frozenset({uploads.JPEG, uploads.PNG})


def add_document(
    session: Session,
    user: Subject,
    ts: TrainingSession,
    filename: str,
    data: bytes,
    directory: Path,
) -> TrainingDocument:
    """Keep a file of the session (slides, signed sheet, photo) under ``directory``."""
    _require_editable(session, user, ts)
    content_type = uploads.accept(data, DOCUMENT_TYPES, DOCUMENT_MAX_BYTES, "file")
    before = _snapshot(ts)
    name = uploads.store(directory, data, content_type)
    doc = TrainingDocument(
        filename=uploads.clean_filename(filename, "document"),
        stored_name=name,
        content_type=content_type,
        size=len(data),
    )
    ts.documents.append(doc)
    try:
        session.flush()
        _log_links(session, ts, before)
        _commit(session)
    except Exception:
        session.rollback()
        uploads.remove(directory, name)
        raise
    return doc


def delete_document(
    session: Session, user: Subject, doc: TrainingDocument, directory: Path
) -> TrainingSession:
    ts = doc.session
    _require_editable(session, user, ts)
    before = _snapshot(ts)
    name = doc.stored_name
    ts.documents.remove(doc)
    session.flush()
    _log_links(session, ts, before)
    _commit(session)
    uploads.remove(directory, name)
    return ts


# -- reading -----------------------------------------------------------------------------
FILTER_STATUSES = ("planned", "to_record", "held", "cancelled")


@dataclass(frozen=True)
class SessionFilters:
    status: str = ""
    ecole: int | None = None
    trainer: int | None = None
    since: date | None = None
    until: date | None = None

    def apply(self, stmt: Select[Any], now: datetime) -> Select[Any]:
        if self.status == "to_record":
            stmt = stmt.where(
                TrainingSession.status == SessionStatus.PLANNED,
                TrainingSession.starts_at <= now,
            )
        elif self.status in SessionStatus._value2member_map_:
            stmt = stmt.where(TrainingSession.status == SessionStatus(self.status))
        if self.ecole:
            stmt = stmt.where(
                TrainingSession.id.in_(
                    select(session_schools.c.session_id).where(
                        session_schools.c.ecole_id == self.ecole
                    )
                )
            )
        if self.trainer:
            stmt = stmt.where(
                TrainingSession.id.in_(
                    select(Trainer.session_id).where(Trainer.user_id == self.trainer)
                )
            )
        if self.since:
            stmt = stmt.where(TrainingSession.starts_at >= to_utc(self.since, time()))
        if self.until:
            stmt = stmt.where(
                TrainingSession.starts_at < to_utc(self.until + timedelta(days=1), time())
            )
        return stmt


def _list_options() -> list[Any]:
    return [
        selectinload(TrainingSession.schools).selectinload(Ecole.commune),
        selectinload(TrainingSession.trainers),
        selectinload(TrainingSession.topics),
    ]


def list_sessions(
    session: Session,
    user: Subject,
    filters: SessionFilters,
    page: int,
    per_page: int,
    now: datetime | None = None,
) -> Page[TrainingSession]:
    now = now or utcnow()
    stmt = (
        policy.visible(user, filters.apply(select(TrainingSession), now), TrainingSession)
        .options(*_list_options())
        .order_by(TrainingSession.starts_at.desc(), TrainingSession.id.desc())
    )
    return paginate(session, stmt, page, per_page)


def count_to_record(session: Session, user: Subject, now: datetime | None = None) -> int:
    stmt = SessionFilters(status="to_record").apply(
        select(func.count(TrainingSession.id)), now or utcnow()
    )
    return session.scalar(policy.visible(user, stmt, TrainingSession)) or 0


def session_detail(
    session: Session, user: Subject, session_id: int, action: Action = Action.READ
) -> TrainingSession:
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
            selectinload(TrainingSession.actions),
            selectinload(TrainingSession.documents),
        )
    ).all()
    return ts


def school_sessions(
    session: Session, user: Subject, ecole_id: int, limit: int = 20
) -> list[TrainingSession]:
    """The school's sessions the user may read, cancelled ones left out, latest first."""
    stmt = (
        select(TrainingSession)
        .where(
            TrainingSession.status != SessionStatus.CANCELLED,
            TrainingSession.id.in_(
                select(session_schools.c.session_id).where(session_schools.c.ecole_id == ecole_id)
            ),
        )
        .options(*_list_options())
        .order_by(TrainingSession.starts_at.desc(), TrainingSession.id.desc())
        .limit(limit)
    )
    return list(session.scalars(policy.visible(user, stmt, TrainingSession)))


def calendar_sessions(
    session: Session, user: Subject, *, ecole: int | None = None, trainer: int | None = None
) -> list[TrainingSession]:
    """Sessions for the calendar feed: planned ones, and held ones so that a recorded
    session keeps its place in the subscribers' calendars; cancelled ones drop out."""
    if not policy.allowed(user, Action.READ):
        raise policy.Denied()
    stmt = SessionFilters(ecole=ecole, trainer=trainer).apply(select(TrainingSession), utcnow())
    stmt = (
        stmt.where(TrainingSession.status.in_([SessionStatus.PLANNED, SessionStatus.HELD]))
        .options(*_list_options())
        .order_by(TrainingSession.starts_at, TrainingSession.id)
    )
    return list(session.scalars(policy.visible(user, stmt, TrainingSession)))


# -- calendar subscription links ---------------------------------------------------------
def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.session_token.encode()).hexdigest()[:16]


def calendar_token(secret: str, user: User) -> str:
    """A private link to the user's feed, for calendar apps that carry no session cookie.
    It stops working when the password changes or the account is deactivated."""
    serializer = URLSafeSerializer(secret, salt="training-calendar")
    return serializer.dumps({"u": user.id, "h": _fingerprint(user)})


def user_from_calendar_token(session: Session, secret: str, token: str) -> User | None:
    try:
        data = URLSafeSerializer(secret, salt="training-calendar").loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = session.get(User, data["u"])
    if user is None or not user.active or _fingerprint(user) != data.get("h"):
        return None
    return user


# -- coverage: equipped schools and their accompaniment ----------------------------------
@dataclass
class SchoolCoverage:
    ecole_id: int
    name: str
    uai: str
    commune: str
    circonscription_id: int | None
    circonscription: str | None
    collectivite_id: int | None
    collectivite: str | None
    installed_on: date | None
    accompanied_on: date | None
    today: date
    threshold: int

    @property
    def equipped(self) -> bool:
        return self.installed_on is not None

    @property
    def accompanied(self) -> bool:
        return self.accompanied_on is not None

    @property
    def delay_days(self) -> int | None:
        """Days from the first item in service to the first held session; negative or zero
        when the accompaniment came first."""
        if self.installed_on is None or self.accompanied_on is None:
            return None
        return (self.accompanied_on - self.installed_on).days

    @property
    def waiting_days(self) -> int | None:
        """Days an equipped school has been waiting for its first accompaniment."""
        if self.installed_on is None or self.accompanied_on is not None:
            return None
        return (self.today - self.installed_on).days

    @property
    def overdue(self) -> bool:
        waiting = self.waiting_days
        return waiting is not None and waiting > self.threshold


@dataclass
class GroupCoverage:
    key: int | None
    name: str
    schools: int = 0
    equipped: int = 0
    accompanied: int = 0
    equipped_accompanied: int = 0
    waiting: int = 0
    overdue: int = 0
    delays: list[int] = field(default_factory=list)

    def add(self, row: SchoolCoverage) -> None:
        self.schools += 1
        self.equipped += row.equipped
        self.accompanied += row.accompanied
        if row.delay_days is not None:
            self.equipped_accompanied += 1
            self.delays.append(row.delay_days)
        self.waiting += row.waiting_days is not None
        self.overdue += row.overdue

    @property
    def median_delay(self) -> float | None:
        return median(self.delays) if self.delays else None

    @property
    def percent(self) -> float:
        """Equipped schools that got their accompaniment."""
        return 100 * self.equipped_accompanied / self.equipped if self.equipped else 0.0


COVERAGE_SHOW = ("overdue", "waiting", "all")
COVERAGE_SORTS = ("waiting", "-waiting", "name", "delay")


@dataclass(frozen=True)
class CoverageFilters:
    days: int = DEFAULT_DELAY_DAYS
    circonscription: int | None = None
    collectivite: int | None = None
    show: str = "overdue"
    sort: str = "waiting"


@dataclass
class CoverageReport:
    filters: CoverageFilters
    today: date
    total: GroupCoverage
    by_circonscription: list[GroupCoverage]
    by_collectivite: list[GroupCoverage]
    schools: Page[SchoolCoverage]


def coverage_rows(
    session: Session, user: Subject, filters: CoverageFilters, now: datetime | None = None
) -> list[SchoolCoverage]:
    """One row per open school in scope: first item in service, first held session.

    Two grouped queries (over the items' lifecycle steps and over the sessions' schools)
    joined to the schools: no loop over items or sessions."""
    today = local_day(now or utcnow())
    in_scope = [policy.condition(user, Ecole), Ecole.status != SchoolStatus.CLOSED]
    if filters.circonscription:
        in_scope.append(Ecole.circonscription_id == filters.circonscription)
    if filters.collectivite:
        in_scope.append(Ecole.collectivite_id == filters.collectivite)
    # Both aggregates start from the schools in scope (a join, not an IN list, so that
    # SQLite walks the schools' index instead of probing every pair).
    installed = (
        select(Asset.ecole_id.label("ecole_id"), func.min(StatusChange.at).label("first"))
        .join(Ecole, Ecole.id == Asset.ecole_id)
        .join(StatusChange, StatusChange.asset_id == Asset.id)
        .where(StatusChange.to_status == AssetStatus.IN_SERVICE, *in_scope)
        .group_by(Asset.ecole_id)
        .subquery("installed")
    )
    held = (
        select(
            session_schools.c.ecole_id.label("ecole_id"),
            func.min(TrainingSession.starts_at).label("first"),
        )
        .join(Ecole, Ecole.id == session_schools.c.ecole_id)
        .join(TrainingSession, TrainingSession.id == session_schools.c.session_id)
        .where(TrainingSession.status == SessionStatus.HELD, *in_scope)
        .group_by(session_schools.c.ecole_id)
        .subquery("held")
    )
    stmt = (
        select(
            Ecole.id,
            Ecole.name,
            Ecole.uai,
            Commune.name,
            Ecole.circonscription_id,
            Circonscription.name,
            Ecole.collectivite_id,
            Collectivite.name,
            installed.c.first,
            held.c.first,
        )
        .join(Commune, Commune.id == Ecole.commune_id)
        .outerjoin(Circonscription, Circonscription.id == Ecole.circonscription_id)
        .outerjoin(Collectivite, Collectivite.id == Ecole.collectivite_id)
        .outerjoin(installed, installed.c.ecole_id == Ecole.id)
        .outerjoin(held, held.c.ecole_id == Ecole.id)
        .where(*in_scope)
    )
    return [
        SchoolCoverage(
            ecole_id=ecole_id,
            name=name,
            uai=uai,
            commune=commune,
            circonscription_id=circo_id,
            circonscription=circo,
            collectivite_id=coll_id,
            collectivite=coll,
            installed_on=local_day(first_in) if first_in else None,
            accompanied_on=local_day(first_held) if first_held else None,
            today=today,
            threshold=filters.days,
        )
        for (
            ecole_id,
            name,
            uai,
            commune,
            circo_id,
            circo,
            coll_id,
            coll,
            first_in,
            first_held,
        ) in session.execute(stmt)
    ]


def _sorted(rows: list[SchoolCoverage], sort: str) -> list[SchoolCoverage]:
    far = 10**6
    by_name = sorted(rows, key=lambda r: (r.name.casefold(), r.uai))
    if sort == "name":
        return by_name
    if sort == "delay":
        return sorted(by_name, key=lambda r: far if r.delay_days is None else -r.delay_days)
    sign = 1 if sort == "-waiting" else -1
    return sorted(by_name, key=lambda r: far if r.waiting_days is None else sign * r.waiting_days)


def coverage(
    session: Session,
    user: Subject,
    filters: CoverageFilters,
    page: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> CoverageReport:
    if not policy.allowed(user, Action.READ):
        raise policy.Denied()
    rows = coverage_rows(session, user, filters, now)
    today = local_day(now or utcnow())
    total = GroupCoverage(None, "")
    circos: dict[int | None, GroupCoverage] = {}
    colls: dict[int | None, GroupCoverage] = {}
    for row in rows:
        total.add(row)
        circos.setdefault(
            row.circonscription_id, GroupCoverage(row.circonscription_id, row.circonscription or "")
        ).add(row)
        colls.setdefault(
            row.collectivite_id, GroupCoverage(row.collectivite_id, row.collectivite or "")
        ).add(row)
    if filters.show == "overdue":
        listed = [r for r in rows if r.overdue]
    elif filters.show == "waiting":
        listed = [r for r in rows if r.waiting_days is not None]
    else:
        listed = rows
    listed = _sorted(listed, filters.sort)
    pages = max(1, -(-len(listed) // per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return CoverageReport(
        filters=filters,
        today=today,
        total=total,
        by_circonscription=sorted(circos.values(), key=lambda g: (-g.overdue, g.name.casefold())),
        by_collectivite=sorted(
            (g for g in colls.values() if g.equipped),
            key=lambda g: (-g.overdue, g.name.casefold()),
        ),
        schools=Page(
            items=listed[start : start + per_page], total=len(listed), page=page, per_page=per_page
        ),
    )
