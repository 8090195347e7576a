"""/api/v1 training sessions: the list (its filters, cursor pages), one session, and for
trainers planning, changing, recording what happened, cancelling and planning again,
through the training's own services. Times are the schools' (Europe/Paris)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields, validate

from inventory.api import common
from inventory.api.docs import SUMMARIES
from inventory.api.records import blp, problems
from inventory.api.schemas import N_, CursorQuery, Int, KeyedPage, Text
from inventory.core.errors import ConflictError, DomainError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.training import lists, sessions
from inventory.training.models import (
    AttendeeRole,
    SessionFormat,
    SessionMode,
    SessionStatus,
    TrainingSession,
)
from inventory.training.times import local
from inventory.web import allow


class SessionQuery(CursorQuery):
    status = Text(
        validate=validate.OneOf(["to_record", *(s.value for s in SessionStatus)]),
        metadata={"description": N_("A status, or to_record (planned, start passed)")},
    )
    ecole = Int()
    trainer = Int(metadata={"description": N_("A trainer's user id")})
    since = fields.Date()
    until = fields.Date()


class TrainerSchema(Schema):
    user_id = Int(allow_none=True)
    name = Text()
    organisation = Text(allow_none=True)


class AttendeeSchema(Schema):
    name = Text(required=True)
    role = Text(
        load_default=AttendeeRole.TEACHER.value,
        validate=validate.OneOf([r.value for r in AttendeeRole]),
    )
    ecole_id = Int(allow_none=True)
    classroom_id = Int(allow_none=True)


class ActionSchema(Schema):
    text = Text(required=True)
    due_on = fields.Date(allow_none=True)
    done = fields.Boolean(load_default=False)


class SessionSchema(Schema):
    id = Int()
    version = Int()
    title = Text()
    status = Text()
    starts_at = fields.DateTime()
    local_start = fields.Method(
        "_local", metadata={"description": N_("The start in the schools' time")}
    )
    duration_minutes = Int()
    mode = Text()
    format = Text()
    place = Text(allow_none=True)
    school_ids = fields.Method("_schools")
    trainers = fields.List(fields.Nested(TrainerSchema))
    teachers = Int()
    directors = Int()
    municipal_staff = Int()
    satisfaction = Int(allow_none=True)

    def _local(self, ts: TrainingSession) -> str:
        return local(ts.starts_at).isoformat()

    def _schools(self, ts: TrainingSession) -> list[int]:
        return sorted(e.id for e in ts.schools)


class SessionDetailSchema(SessionSchema):
    topic_ids = fields.Method("_topics")
    category_ids = fields.Method("_categories")
    asset_ids = fields.Method("_assets")
    expense_id = Int(allow_none=True)
    notes = Text(allow_none=True)
    feedback = Text(allow_none=True)
    attendees = fields.List(fields.Nested(AttendeeSchema))
    follow_ups = fields.List(fields.Nested(ActionSchema))

    def _topics(self, ts: TrainingSession) -> list[int]:
        return sorted(t.id for t in ts.topics)

    def _categories(self, ts: TrainingSession) -> list[int]:
        return sorted(c.id for c in ts.categories)

    def _assets(self, ts: TrainingSession) -> list[int]:
        return sorted(a.id for a in ts.assets)


class SessionPage(KeyedPage):
    items = fields.List(fields.Nested(SessionSchema))


class ExternalTrainer(Schema):
    name = Text(required=True)
    organisation = Text(load_default="")


class SessionInput(Schema):
    """A session's plan; on a change, the fields not sent are kept."""

    title = Text(allow_none=True)
    day = fields.Date(
        allow_none=True, metadata={"description": N_("The day, in the schools' time")}
    )
    start = fields.Time(
        allow_none=True, metadata={"description": N_("The start time, in the schools' time")}
    )
    duration_minutes = Int(allow_none=True)
    mode = Text(validate=validate.OneOf([m.value for m in SessionMode]))
    format = Text(validate=validate.OneOf([f.value for f in SessionFormat]))
    place = Text(allow_none=True)
    school_ids = fields.List(Int())
    topic_ids = fields.List(Int())
    category_ids = fields.List(Int())
    asset_ids = fields.List(Int())
    trainer_user_ids = fields.List(Int())
    external_trainers = fields.List(fields.Nested(ExternalTrainer))
    expense_id = Int(allow_none=True)
    notes = Text(allow_none=True)


class SessionChange(SessionInput, common.Versioned):
    pass


class SessionReport(common.Versioned):
    """What happened: the counts (0 if nobody), optionally who came and what follows."""

    teachers = Int(allow_none=True)
    directors = Int(allow_none=True)
    municipal_staff = Int(allow_none=True)
    satisfaction = Int(allow_none=True, metadata={"description": N_("From 1 to 5")})
    feedback = Text(allow_none=True)
    attendees = fields.List(fields.Nested(AttendeeSchema))
    actions = fields.List(fields.Nested(ActionSchema))


class SessionStatusChange(common.Versioned):
    status = Text(
        allow_none=True,
        validate=validate.OneOf([SessionStatus.CANCELLED.value, SessionStatus.PLANNED.value]),
        metadata={"description": N_("cancelled, or planned to plan a cancelled one again")},
    )


SUMMARIES.update(
    {
        "get/training-sessions": _l(
            "The training sessions you may see, newest first, with the list's filters; "
            "cursor pages."
        ),
        "post/training-sessions": _l("Plan a training session."),
        "get/training-sessions/{session_id}": _l("One training session; its ETag is its version."),
        "patch/training-sessions/{session_id}": _l(
            "Change a session's plan; the fields not sent are kept."
        ),
        "post/training-sessions/{session_id}/report": _l(
            "Record what happened at a session: it becomes held."
        ),
        "post/training-sessions/{session_id}/status": _l(
            "Cancel a planned session, or plan a cancelled one again."
        ),
    }
)


def _fields(data: dict[str, Any], ts: TrainingSession | None = None) -> sessions.SessionFields:
    """The plan sent, over the session's current one for a change."""
    current: dict[str, Any] = {}
    if ts is not None:
        start = local(ts.starts_at)
        current = {
            "title": ts.title,
            "day": start.date(),
            "start": start.time().replace(tzinfo=None),
            "duration_minutes": ts.duration_minutes,
            "mode": ts.mode,
            "format": ts.format,
            "place": ts.place,
            "school_ids": [e.id for e in ts.schools],
            "topic_ids": [t.id for t in ts.topics],
            "category_ids": [c.id for c in ts.categories],
            "asset_ids": [a.id for a in ts.assets],
            "trainer_user_ids": [t.user_id for t in ts.trainers if t.user_id is not None],
            "external_trainers": [
                (t.name, t.organisation or "") for t in ts.trainers if t.user_id is None
            ],
            "expense_id": ts.expense_id,
            "notes": ts.notes,
        }
    given = dict(data)
    if "external_trainers" in given:
        given["external_trainers"] = [
            (e["name"], e.get("organisation") or "") for e in given["external_trainers"]
        ]
    if "mode" in given:
        given["mode"] = SessionMode(given["mode"])
    if "format" in given:
        given["format"] = SessionFormat(given["format"])
    if "title" in given:
        given["title"] = given["title"] or ""
    return sessions.SessionFields(**{**current, **given})


def _detail(session_id: int, code: int = 200) -> Any:
    found = sessions.session_detail(db.session, current_user, session_id)
    return found, code, common.etag(found.version)


def _to_edit(session_id: int, data: dict[str, Any]) -> tuple[TrainingSession, int]:
    found = sessions.session_detail(db.session, current_user, session_id, Action.TRAIN)
    return found, common.version_sent(data, found.version)


@blp.route("/training-sessions", methods=["GET"])
@blp.arguments(SessionQuery, location="query")
@blp.response(200, SessionPage)
@problems(422)
@allow(Action.READ)
def session_list(args: dict[str, Any]) -> Any:
    """The training sessions you may see, newest first, with the list's filters; cursor
    pages."""
    filters = lists.SessionFilters(
        status=args.get("status") or "",
        ecole=args.get("ecole"),
        trainer=args.get("trainer"),
        since=args.get("since"),
        until=args.get("until"),
    )
    page = lists.sessions_by_key(
        db.session, current_user, filters, args["limit"], after=common.cursor_of(args)
    )
    return common.page_body(page)


@blp.route("/training-sessions", methods=["POST"], endpoint="plan_session")
@blp.arguments(SessionInput)
@blp.response(201, SessionDetailSchema)
@problems(403, 422)
@common.creates
@allow(Action.TRAIN)
def plan_session(data: dict[str, Any]) -> Any:
    """Plan a training session."""
    ts = sessions.plan_session(db.session, current_user, _fields(data))
    return _detail(ts.id, 201)


@blp.route("/training-sessions/<int:session_id>", methods=["GET"])
@blp.response(200, SessionDetailSchema)
@problems()
@allow(Action.READ, on=(TrainingSession, "session_id"))
def training_session(session_id: int) -> Any:
    """One training session; its ETag is its version."""
    return _detail(session_id)


@blp.route("/training-sessions/<int:session_id>", methods=["PATCH"], endpoint="update_session")
@blp.arguments(SessionChange)
@blp.response(200, SessionDetailSchema)
@problems(403, 409, 412, 422, 428)
@allow(Action.TRAIN, on=(TrainingSession, "session_id"))
def update_session(data: dict[str, Any], session_id: int) -> Any:
    """Change a session's plan; the fields not sent are kept."""
    found, version = _to_edit(session_id, data)
    try:
        sessions.update_session(
            db.session, current_user, found, _fields(data, found), version=version
        )
    except ConflictError:
        raise common.reworded_conflict() from None
    return _detail(session_id)


@blp.route(
    "/training-sessions/<int:session_id>/report", methods=["POST"], endpoint="record_session"
)
@blp.arguments(SessionReport)
@blp.response(200, SessionDetailSchema)
@problems(403, 409, 412, 422, 428)
@allow(Action.TRAIN, on=(TrainingSession, "session_id"))
def record_session(data: dict[str, Any], session_id: int) -> Any:
    """Record what happened at a session: it becomes held."""
    found, version = _to_edit(session_id, data)
    report = sessions.Report(
        teachers=data.get("teachers"),
        directors=data.get("directors"),
        municipal_staff=data.get("municipal_staff"),
        satisfaction=data.get("satisfaction"),
        feedback=data.get("feedback"),
        attendees=[
            sessions.AttendeeInput(
                name=a["name"],
                role=AttendeeRole(a["role"]),
                ecole_id=a.get("ecole_id"),
                classroom_id=a.get("classroom_id"),
            )
            for a in data.get("attendees", [])
        ],
        actions=[
            sessions.ActionInput(text=a["text"], due_on=a.get("due_on"), done=a["done"])
            for a in data.get("actions", [])
        ],
    )
    try:
        sessions.record_session(db.session, current_user, found, report, version=version)
    except ConflictError:
        raise common.reworded_conflict() from None
    return _detail(session_id)


@blp.route(
    "/training-sessions/<int:session_id>/status", methods=["POST"], endpoint="session_status"
)
@blp.arguments(SessionStatusChange)
@blp.response(200, SessionDetailSchema)
@problems(403, 409, 412, 422, 428)
@allow(Action.TRAIN, on=(TrainingSession, "session_id"))
def session_status(data: dict[str, Any], session_id: int) -> Any:
    """Cancel a planned session, or plan a cancelled one again."""
    found, version = _to_edit(session_id, data)
    wanted = data.get("status")
    if wanted == SessionStatus.CANCELLED.value:
        change = sessions.cancel_session
    elif wanted == SessionStatus.PLANNED.value:
        change = sessions.reopen_session
    else:
        raise DomainError(_("Choose a status."), field="status")
    try:
        change(db.session, current_user, found, version=version)
    except ConflictError:
        raise common.reworded_conflict() from None
    return _detail(session_id)
