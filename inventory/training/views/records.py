"""What happens at a session: the attendance sheet printed for it, and its record."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.training import attendance
from inventory.training.editing import ConflictError, TrainingError, may_edit
from inventory.training.forms import RecordForm
from inventory.training.models import AttendeeRole, SessionStatus, TrainingSession
from inventory.training.sessions import ActionInput, AttendeeInput, Report, record_session
from inventory.training.views.blueprint import bp, load_session, page_locale, version_of
from inventory.web import allow, attach_error

ATTENDEE_ROWS = 6
ACTION_ROWS = 2
MORE_ROWS = 4


# -- record --------------------------------------------------------------------------------
def _fill_record_choices(form: RecordForm, ts: TrainingSession) -> None:
    schools = options([(0, "—")] + [(e.id, e.name) for e in ts.schools])
    rooms = [SelectChoice(0, "—")] + [
        SelectChoice(
            room.id,
            f"{room.name} ({', '.join(room.level_list)})" if room.levels else room.name,
            optgroup=ecole.name,
        )
        for ecole in ts.schools
        for room in ecole.classrooms
    ]
    for entry in form.attendees:
        entry.form.ecole.choices = schools
        entry.form.classroom.choices = rooms


def _load_record(form: RecordForm, ts: TrainingSession) -> None:
    if ts.status is SessionStatus.HELD:
        form.teachers.data = ts.teachers
        form.directors.data = ts.directors
        form.municipal_staff.data = ts.municipal_staff
    form.satisfaction.data = str(ts.satisfaction or "")
    form.feedback.data = ts.feedback or ""
    for a in ts.attendees:
        form.attendees.append_entry(
            {
                "name": a.name,
                "role": a.role.value,
                "ecole": a.ecole_id or 0,
                "classroom": a.classroom_id or 0,
            }
        )
    for _i in range(max(2, ATTENDEE_ROWS - len(ts.attendees))):
        form.attendees.append_entry()
    for action in ts.follow_ups:
        form.actions.append_entry(
            {"text": action.text, "due_on": action.due_on, "done": action.done}
        )
    for _i in range(ACTION_ROWS):
        form.actions.append_entry()
    form.version.data = str(ts.version)


def _report(form: RecordForm) -> Report:
    attendees = []
    for entry in form.attendees:
        row = entry.form
        name = (row.name.data or "").strip()
        if name or row.ecole.data or row.classroom.data:
            role = row.role.data if row.role.data in AttendeeRole._value2member_map_ else "teacher"
            attendees.append(
                AttendeeInput(
                    name=name,
                    role=AttendeeRole(role),
                    ecole_id=row.ecole.data or None,
                    classroom_id=row.classroom.data or None,
                )
            )
    actions = [
        ActionInput(
            text=e.form.text.data or "", due_on=e.form.due_on.data, done=bool(e.form.done.data)
        )
        for e in form.actions
        if (e.form.text.data or "").strip() or e.form.due_on.data
    ]
    satisfaction = form.satisfaction.data or ""
    return Report(
        teachers=form.teachers.data,
        directors=form.directors.data,
        municipal_staff=form.municipal_staff.data,
        satisfaction=int(satisfaction) if satisfaction.isdigit() else None,
        feedback=form.feedback.data,
        attendees=attendees,
        actions=actions,
    )


@bp.route("/accompagnement/<int:session_id>/compte-rendu", methods=["GET", "POST"])
@allow(Action.TRAIN, on=(TrainingSession, "session_id"))
def record(session_id: int) -> str | Response | tuple[str, int]:
    ts = load_session(session_id, Action.TRAIN)
    if not may_edit(db.session, current_user, ts):
        raise policy.Denied()
    if ts.status is SessionStatus.CANCELLED:
        flash(_("A cancelled session cannot be recorded."), "error")
        return redirect(url_for("training.detail", session_id=ts.id))
    form = RecordForm()
    status = 200
    conflict = False
    if request.method == "GET":
        _load_record(form, ts)
    elif "more" in request.form:
        for _i in range(MORE_ROWS):
            form.attendees.append_entry()
        form.actions.append_entry()
    elif form.validate_on_submit():
        try:
            record_session(db.session, current_user, ts, _report(form), version=version_of(form))
        except ConflictError:
            db.session.rollback()
            ts = load_session(session_id, Action.TRAIN)
            form.version.data = str(ts.version)
            conflict = True
            status = 409
        except TrainingError as exc:
            db.session.rollback()
            ts = load_session(session_id, Action.TRAIN)
            attach_error(form, exc, "teachers")
            status = 422
        else:
            flash(_("Record of «%(title)s» saved.", title=ts.title), "success")
            return redirect(url_for("training.detail", session_id=ts.id))
    else:
        status = 422
    _fill_record_choices(form, ts)
    return render_template(
        "training/record.html",
        form=form,
        ts=ts,
        conflict=conflict,
        not_started=ts.starts_at > utcnow(),
    ), status


# -- attendance sheet ------------------------------------------------------------------------
@bp.get("/accompagnement/<int:session_id>/emargement.pdf")
@allow(Action.READ, on=(TrainingSession, "session_id"))
def attendance_sheet(session_id: int) -> Response:
    ts = load_session(session_id)
    pdf = attendance.attendance_sheet(ts, page_locale())
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="emargement-{ts.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response
