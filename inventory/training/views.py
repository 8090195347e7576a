"""Accompaniment pages: sessions (plan, record, cancel, attachments), calendar feed,
attendance sheet, coverage of the equipped schools."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from inventory.changelog.services import history_of
from inventory.core import policy, uploads
from inventory.core.db import utcnow
from inventory.core.forms import options
from inventory.core.policy import Action, Role
from inventory.extensions import db
from inventory.training import documents, services
from inventory.training.forms import (
    SATISFACTION,
    CoverageForm,
    DocumentForm,
    RecordForm,
    SessionFilterForm,
    SessionForm,
    VersionForm,
)
from inventory.training.models import (
    AttendeeRole,
    SessionFormat,
    SessionMode,
    SessionStatus,
    TrainingDocument,
    TrainingSession,
)
from inventory.training.services import ConflictError, TrainingError
from inventory.web import allow, attach_error, int_arg, send_private, upload_dir

bp = Blueprint("training", __name__)

ATTENDEE_ROWS = 6
ACTION_ROWS = 2
MORE_ROWS = 4


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    """Labels of the session enums, for these pages and the school page."""
    return {
        "training_status_labels": services.STATUS_LABELS,
        "training_mode_labels": services.MODE_LABELS,
        "training_format_labels": services.FORMAT_LABELS,
        "training_role_labels": services.ROLE_LABELS,
    }


# -- helpers -----------------------------------------------------------------------------
def _locale() -> str:
    return str(get_locale())


def _upload_dir() -> Path:
    return upload_dir("training")


def _version(form: Any) -> int:
    value = form.version.data or ""
    return int(value) if value.isdigit() and len(value) < 10 else -1


def _school_label(ecole: Any) -> str:
    return f"{ecole.name} ({ecole.commune.name})"


def _ts_detail(session_id: int, action: Action = Action.READ) -> TrainingSession:
    return services.session_detail(db.session, current_user, session_id, action)


# -- list ----------------------------------------------------------------------------------
@bp.get("/accompagnement")
@allow(Action.READ)
def sessions() -> str:
    form = SessionFilterForm(request.args)
    schools = services.visible_schools(db.session, current_user)
    trainers = services.trainer_candidates(db.session, current_user)
    every = [(0, _("All"))]
    form.ecole.choices = options(every + [(e.id, _school_label(e)) for e in schools])
    form.trainer.choices = options(every + [(u.id, u.name) for u in trainers])
    # A date that does not parse is left out (DateField keeps None for it).
    filters = services.SessionFilters(
        status=request.args.get("status", "")[:20],
        ecole=int_arg("ecole"),
        trainer=int_arg("trainer"),
        since=form.since.data,
        until=form.until.data,
    )
    now = utcnow()
    page = services.list_sessions(
        db.session,
        current_user,
        filters,
        int_arg("page") or 1,
        current_app.config["PAGE_SIZE"],
        now,
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    feed_args = {k: v for k, v in (("ecole", filters.ecole), ("formateur", filters.trainer)) if v}
    return render_template(
        "training/list.html",
        form=form,
        page=page,
        args=args,
        to_record={ts.id for ts in page.items if services.to_record(ts, now)},
        pending=services.count_to_record(db.session, current_user, now),
        export_url=url_for("training.planning", **feed_args),
        feed_url=_feed_url(feed_args),
    )


def _feed_url(args: dict[str, Any]) -> str | None:
    """The user's private subscription link (accounts only: not the test doubles)."""
    if not hasattr(current_user, "session_token"):
        return None
    token = services.calendar_token(current_app.config["SECRET_KEY"], current_user)
    base = current_app.config["BASE_URL"].rstrip("/")
    return base + url_for("training.feed", token=token, **args)


# -- plan and edit -------------------------------------------------------------------------
def _fill_session_choices(form: SessionForm, ts: TrainingSession | None) -> None:
    locale = _locale()
    schools = services.visible_schools(db.session, current_user)
    form.schools.choices = options((e.id, _school_label(e)) for e in schools)
    chosen = [i for i in (form.schools.data or []) if isinstance(i, int)]
    form.topics.choices = options(
        (t.id, t.label(locale))
        for t in services.topics(db.session, [t.id for t in ts.topics] if ts else [])
    )
    form.categories.choices = options(
        (c.id, c.label(locale)) for c in services.categories(db.session)
    )
    form.assets.choices = [
        SelectChoice(
            a.id,
            " — ".join(
                p
                for p in (
                    a.tag,
                    f"{a.category.label(locale)} {a.model.name}",
                    a.classroom.name if a.classroom else "",
                )
                if p
            ),
            optgroup=a.ecole.name if a.ecole else None,
        )
        for a in services.assets_of_schools(db.session, current_user, chosen)
    ]
    users = [(u.id, u.name) for u in services.trainer_candidates(db.session, current_user)]
    known = {i for i, _n in users}
    if ts is not None:
        users += [(t.user_id, t.name) for t in ts.trainers if t.user_id and t.user_id not in known]
    form.trainer_users.choices = options(users)
    expenses = services.expense_candidates(db.session, current_user, chosen)
    if ts is not None and ts.expense_id and ts.expense_id not in {e.id for e in expenses}:
        current = services.expense_of(db.session, current_user, ts)
        expenses += [current] if current else []
    form.expense.choices = options(
        [(0, _("No funding recorded"))] + [(e.id, services.expense_label(e)) for e in expenses]
    )


def _load_session(form: SessionForm, ts: TrainingSession) -> None:
    start = services.local(ts.starts_at)
    form.title.data = ts.title
    form.day.data, form.start.data = start.date(), start.time()
    form.duration.data = ts.duration_minutes
    form.mode.data, form.format.data = ts.mode.value, ts.format.value
    form.place.data = ts.place or ""
    form.schools.data = [e.id for e in ts.schools]
    form.topics.data = [t.id for t in ts.topics]
    form.categories.data = [c.id for c in ts.categories]
    form.assets.data = [a.id for a in ts.assets]
    form.trainer_users.data = [t.user_id for t in ts.trainers if t.user_id]
    externals = [t for t in ts.trainers if t.user_id is None]
    while form.external.entries:
        form.external.pop_entry()
    for t in externals:
        form.external.append_entry({"name": t.name, "organisation": t.organisation or ""})
    for _i in range(max(1, 2 - len(externals))):
        form.external.append_entry()
    form.expense.data = ts.expense_id or 0
    form.notes.data = ts.notes or ""
    form.version.data = str(ts.version)


def _session_fields(form: SessionForm) -> services.SessionFields:
    def ids(f: Any) -> list[int]:
        return [i for i in (f.data or []) if isinstance(i, int)]

    return services.SessionFields(
        title=form.title.data or "",
        day=form.day.data,
        start=form.start.data,
        duration_minutes=form.duration.data,
        mode=SessionMode(form.mode.data),
        format=SessionFormat(form.format.data),
        place=form.place.data,
        school_ids=ids(form.schools),
        topic_ids=ids(form.topics),
        category_ids=ids(form.categories),
        asset_ids=ids(form.assets),
        trainer_user_ids=ids(form.trainer_users),
        external_trainers=[
            (e.form.name.data or "", e.form.organisation.data or "") for e in form.external
        ],
        expense_id=form.expense.data or None,
        notes=form.notes.data,
    )


def _refreshing() -> bool:
    """The «Show their equipment» button: re-read the choices, save nothing."""
    return request.method == "POST" and "refresh" in request.form


@bp.route("/accompagnement/nouvelle", methods=["GET", "POST"])
@allow(Action.TRAIN)
def new() -> str | Response | tuple[str, int]:
    form = SessionForm()
    status = 200
    if request.method == "GET":
        form.schools.data = request.args.getlist("ecole", type=int)
        form.duration.data = 90
        if current_user.role is Role.FORMATEUR:
            form.trainer_users.data = [current_user.id]
    elif _refreshing():
        pass
    elif form.validate_on_submit():
        try:
            ts = services.plan_session(db.session, current_user, _session_fields(form))
        except TrainingError as exc:
            db.session.rollback()
            attach_error(form, exc, "title")
            status = 422
        else:
            flash(_("Session «%(title)s» planned.", title=ts.title), "success")
            return redirect(url_for("training.detail", session_id=ts.id))
    else:
        status = 422
    _fill_session_choices(form, None)
    return render_template("training/form.html", form=form, ts=None, conflict=None), status


@bp.route("/accompagnement/<int:session_id>/modifier", methods=["GET", "POST"])
@allow(Action.TRAIN, on=(TrainingSession, "session_id"))
def edit(session_id: int) -> str | Response | tuple[str, int]:
    ts = _ts_detail(session_id, Action.TRAIN)
    if not services.may_edit(db.session, current_user, ts):
        raise policy.Denied()
    form = SessionForm()
    status = 200
    conflict = None
    if request.method == "GET":
        _load_session(form, ts)
    elif _refreshing():
        pass
    elif form.validate_on_submit():
        try:
            services.update_session(
                db.session, current_user, ts, _session_fields(form), version=_version(form)
            )
        except ConflictError:
            db.session.rollback()
            ts = _ts_detail(session_id, Action.TRAIN)
            conflict = _differences(form, ts)
            # The next save is made knowingly over the other person's.
            form.version.data = str(ts.version)
            status = 409
        except TrainingError as exc:
            db.session.rollback()
            ts = _ts_detail(session_id, Action.TRAIN)
            attach_error(form, exc, "title")
            status = 422
        else:
            flash(_("Session «%(title)s» saved.", title=ts.title), "success")
            return redirect(url_for("training.detail", session_id=ts.id))
    else:
        status = 422
    _fill_session_choices(form, ts)
    return render_template("training/form.html", form=form, ts=ts, conflict=conflict), status


def _differences(form: SessionForm, ts: TrainingSession) -> list[tuple[str, str, str]]:
    """(label, saved meanwhile, typed) for the plain fields that differ."""
    saved = SessionForm(formdata=None)
    _load_session(saved, ts)
    out = []
    for name in ("title", "day", "start", "duration", "mode", "format", "place", "notes"):
        mine, theirs = form[name], saved[name]
        if str(mine.data or "") != str(theirs.data or ""):
            out.append((str(mine.label.text), str(theirs.data or ""), str(mine.data or "")))
    return out


# -- detail, cancel, reopen ----------------------------------------------------------------
def _detail_page(
    ts: TrainingSession,
    *,
    document_form: DocumentForm | None = None,
    error: str | None = None,
) -> str:
    may_edit = services.may_edit(db.session, current_user, ts)
    return render_template(
        "training/detail.html",
        ts=ts,
        may_edit=may_edit,
        to_record=services.to_record(ts),
        expense=services.expense_of(db.session, current_user, ts),
        document_form=document_form or DocumentForm(formdata=None),
        satisfaction_labels=SATISFACTION,
        error=error,
        history=history_of(db.session, current_user, ts),
    )


@bp.get("/accompagnement/<int:session_id>")
@allow(Action.READ, on=(TrainingSession, "session_id"))
def detail(session_id: int) -> str:
    return _detail_page(_ts_detail(session_id))


def _status_change(session_id: int, change: Any, done: str) -> str | Response | tuple[str, int]:
    ts = _ts_detail(session_id, Action.TRAIN)
    form = VersionForm()
    if not form.validate_on_submit():
        return redirect(url_for("training.detail", session_id=ts.id))
    try:
        change(db.session, current_user, ts, version=_version(form))
    except ConflictError as exc:
        db.session.rollback()
        return _detail_page(_ts_detail(session_id), error=str(exc.message)), 409
    except TrainingError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    else:
        flash(done, "success")
    return redirect(url_for("training.detail", session_id=ts.id))


@bp.post("/accompagnement/<int:session_id>/annuler")
@allow(Action.TRAIN, on=(TrainingSession, "session_id"))
def cancel(session_id: int) -> str | Response | tuple[str, int]:
    return _status_change(session_id, services.cancel_session, _("Session cancelled."))


@bp.post("/accompagnement/<int:session_id>/retablir")
@allow(Action.TRAIN, on=(TrainingSession, "session_id"))
def reopen(session_id: int) -> str | Response | tuple[str, int]:
    return _status_change(session_id, services.reopen_session, _("Session planned again."))


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
    for action in ts.actions:
        form.actions.append_entry(
            {"text": action.text, "due_on": action.due_on, "done": action.done}
        )
    for _i in range(ACTION_ROWS):
        form.actions.append_entry()
    form.version.data = str(ts.version)


def _report(form: RecordForm) -> services.Report:
    attendees = []
    for entry in form.attendees:
        row = entry.form
        name = (row.name.data or "").strip()
        if name or row.ecole.data or row.classroom.data:
            role = row.role.data if row.role.data in AttendeeRole._value2member_map_ else "teacher"
            attendees.append(
                services.AttendeeInput(
                    name=name,
                    role=AttendeeRole(role),
                    ecole_id=row.ecole.data or None,
                    classroom_id=row.classroom.data or None,
                )
            )
    actions = [
        services.ActionInput(
            text=e.form.text.data or "", due_on=e.form.due_on.data, done=bool(e.form.done.data)
        )
        for e in form.actions
        if (e.form.text.data or "").strip() or e.form.due_on.data
    ]
    satisfaction = form.satisfaction.data or ""
    return services.Report(
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
    ts = _ts_detail(session_id, Action.TRAIN)
    if not services.may_edit(db.session, current_user, ts):
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
            services.record_session(
                db.session, current_user, ts, _report(form), version=_version(form)
            )
        except ConflictError:
            db.session.rollback()
            ts = _ts_detail(session_id, Action.TRAIN)
            form.version.data = str(ts.version)
            conflict = True
            status = 409
        except TrainingError as exc:
            db.session.rollback()
            ts = _ts_detail(session_id, Action.TRAIN)
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


# -- attachments ---------------------------------------------------------------------------
@bp.post("/accompagnement/<int:session_id>/documents")
@allow(Action.TRAIN, on=(TrainingSession, "session_id"))
def upload(session_id: int) -> str | Response | tuple[str, int]:
    ts = _ts_detail(session_id, Action.TRAIN)
    form = DocumentForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(services.DOCUMENT_MAX_BYTES + 1)
        try:
            services.add_document(
                db.session, current_user, ts, upload.filename or "", data, _upload_dir()
            )
        except (TrainingError, uploads.UploadError) as exc:
            db.session.rollback()
            ts = _ts_detail(session_id, Action.TRAIN)
            attach_error(form, exc, "file")
        else:
            flash(_("Document added."), "success")
            return redirect(url_for("training.detail", session_id=ts.id, _anchor="documents"))
    return _detail_page(ts, document_form=form), 422


@bp.get("/accompagnement/documents/<int:document_id>")
@allow(Action.READ, on=(TrainingDocument, "document_id"))
def document(document_id: int) -> Response:
    doc = policy.load_or_404(current_user, TrainingDocument, document_id, db.session)
    return send_private(
        uploads.path_of(_upload_dir(), doc.stored_name),
        doc.content_type,
        doc.filename,
        as_attachment=doc.content_type not in services.INLINE_TYPES,
    )


@bp.post("/accompagnement/documents/<int:document_id>/supprimer")
@allow(Action.TRAIN, on=(TrainingDocument, "document_id"))
def delete_document(document_id: int) -> Response:
    doc = policy.load_or_404(current_user, TrainingDocument, document_id, db.session, Action.TRAIN)
    session_id = doc.session_id
    if FlaskForm().validate_on_submit():
        services.delete_document(db.session, current_user, doc, _upload_dir())
        flash(_("Document deleted."), "success")
    return redirect(url_for("training.detail", session_id=session_id, _anchor="documents"))


# -- calendar --------------------------------------------------------------------------------
def _calendar_response(user: Any, *, attachment: bool) -> Response:
    ecole, trainer = int_arg("ecole"), int_arg("formateur")
    found = services.calendar_sessions(db.session, user, ecole=ecole, trainer=trainer)
    base = current_app.config["BASE_URL"].rstrip("/")
    host = urlsplit(base).hostname or "socle"
    locale = _locale()
    events = [
        documents.session_event(
            ts, host, base + url_for("training.detail", session_id=ts.id), locale
        )
        for ts in found
    ]
    body = documents.calendar(events, _("Accompaniment sessions — Socle"))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, no-cache"
    if attachment:
        response.headers["Content-Disposition"] = 'attachment; filename="accompagnement.ics"'
    return response


@bp.get("/accompagnement/planning.ics")
@allow(Action.READ)
def planning() -> Response:
    return _calendar_response(current_user, attachment=True)


@bp.get("/accompagnement/agenda/<token>.ics")
@allow(None)  # calendar apps carry no session: the signed token names the account
def feed(token: str) -> Response:
    user = services.user_from_calendar_token(db.session, current_app.config["SECRET_KEY"], token)
    if user is None:
        return redirect(url_for("auth.login"))
    return _calendar_response(user, attachment=False)


# -- attendance sheet ------------------------------------------------------------------------
@bp.get("/accompagnement/<int:session_id>/emargement.pdf")
@allow(Action.READ, on=(TrainingSession, "session_id"))
def attendance_sheet(session_id: int) -> Response:
    ts = _ts_detail(session_id)
    pdf = documents.attendance_sheet(ts, _locale())
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="emargement-{ts.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# -- coverage ----------------------------------------------------------------------------------
@bp.get("/accompagnement/couverture")
@allow(Action.READ)
def coverage() -> str:
    from inventory.orgs.services import filter_choices

    form = CoverageForm(request.args)
    default = int(current_app.config.get("TRAINING_DELAY_DAYS", services.DEFAULT_DELAY_DAYS))
    days = form.days.data
    if days is None or not 0 <= days <= services.MAX_DELAY_DAYS:
        days = default
    form.days.data = days
    choices = filter_choices(db.session, current_user)
    every = [(0, _("All"))]
    form.circonscription.choices = options(
        every + [(c.id, c.name) for c in choices.circonscriptions]
    )
    form.collectivite.choices = options(every + [(c.id, c.name) for c in choices.collectivites])
    show = request.args.get("show", "overdue")
    sort = request.args.get("sort", "waiting")
    filters = services.CoverageFilters(
        days=days,
        circonscription=int_arg("circonscription"),
        collectivite=int_arg("collectivite"),
        show=show if show in services.COVERAGE_SHOW else "overdue",
        sort=sort if sort in services.COVERAGE_SORTS else "waiting",
    )
    form.show.data = filters.show
    report = services.coverage(
        db.session,
        current_user,
        filters,
        int_arg("page") or 1,
        current_app.config["PAGE_SIZE"],
    )
    args = {k: v for k, v in request.args.items() if k not in {"page", "sort"} and v}
    args["days"] = str(days)
    return render_template(
        "training/coverage.html",
        form=form,
        report=report,
        args=args,
        today=report.today,
    )
