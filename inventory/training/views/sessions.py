"""Sessions: the list, planning and editing, the session's page, cancelling and planning
again."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from inventory.changelog.services import history_of
from inventory.core import policy, saved_filters, sorting
from inventory.core.db import utcnow
from inventory.core.forms import options
from inventory.core.policy import Action, Role
from inventory.extensions import db
from inventory.training.choices import (
    assets_of_schools,
    categories,
    expense_candidates,
    expense_label,
    expense_of,
    topics,
    trainer_candidates,
    visible_schools,
)
from inventory.training.editing import ConflictError, TrainingError, may_edit
from inventory.training.forms import (
    SATISFACTION,
    DocumentForm,
    SessionFilterForm,
    SessionForm,
    VersionForm,
)
from inventory.training.lists import SESSION_SORT, SessionFilters, count_to_record, list_sessions
from inventory.training.models import SessionFormat, SessionMode, TrainingSession
from inventory.training.sessions import (
    SessionFields,
    cancel_session,
    plan_session,
    reopen_session,
    update_session,
)
from inventory.training.times import local, to_record
from inventory.training.views.blueprint import (
    bp,
    load_session,
    page_locale,
    school_label,
    version_of,
)
from inventory.training.views.calendar import feed_url
from inventory.web import allow, attach_error, int_arg


# -- list ----------------------------------------------------------------------------------
@bp.get("/accompagnement")
@allow(Action.READ)
def sessions() -> str:
    form = SessionFilterForm(request.args)
    schools = visible_schools(db.session, current_user)
    trainers = trainer_candidates(db.session, current_user)
    every = [(0, _("All"))]
    form.ecole.choices = options(every + [(e.id, school_label(e)) for e in schools])
    form.trainer.choices = options(every + [(u.id, u.name) for u in trainers])
    # A date that does not parse is left out (DateField keeps None for it).
    filters = SessionFilters(
        status=request.args.get("status", "")[:20],
        ecole=int_arg("ecole"),
        trainer=int_arg("trainer"),
        since=form.since.data,
        until=form.until.data,
    )
    now = utcnow()
    sort = SESSION_SORT.read(request.args.get("sort"))
    page = list_sessions(
        db.session,
        current_user,
        filters,
        int_arg("page") or 1,
        current_app.config["PAGE_SIZE"],
        now,
        sort,
    )
    args = {k: v for k, v in request.args.items() if k not in {"page", "filter_name"} and v}
    feed_args: dict[str, Any] = {
        k: v for k, v in (("ecole", filters.ecole), ("formateur", filters.trainer)) if v
    }
    return render_template(
        "training/list.html",
        form=form,
        page=page,
        args=args,
        to_record={ts.id for ts in page.items if to_record(ts, now)},
        pending=count_to_record(db.session, current_user, now),
        export_url=url_for("training.planning", **feed_args),
        feed_url=feed_url(feed_args),
        headers=sorting.headers(SESSION_SORT, sort),
        saved=saved_filters.filters_of(db.session, current_user, "training"),
    )


# -- plan and edit -------------------------------------------------------------------------
def _fill_session_choices(form: SessionForm, ts: TrainingSession | None) -> None:
    locale = page_locale()
    schools = visible_schools(db.session, current_user)
    form.schools.choices = options((e.id, school_label(e)) for e in schools)
    chosen = [i for i in (form.schools.data or []) if isinstance(i, int)]
    form.topics.choices = options(
        (t.id, t.label(locale)) for t in topics(db.session, [t.id for t in ts.topics] if ts else [])
    )
    form.categories.choices = options((c.id, c.label(locale)) for c in categories(db.session))
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
        for a in assets_of_schools(db.session, current_user, chosen)
    ]
    users = [(u.id, u.name) for u in trainer_candidates(db.session, current_user)]
    known = {i for i, _n in users}
    if ts is not None:
        users += [(t.user_id, t.name) for t in ts.trainers if t.user_id and t.user_id not in known]
    form.trainer_users.choices = options(users)
    expenses = expense_candidates(db.session, current_user, chosen)
    if ts is not None and ts.expense_id and ts.expense_id not in {e.id for e in expenses}:
        current = expense_of(db.session, current_user, ts)
        expenses += [current] if current else []
    form.expense.choices = options(
        [(0, _("No funding recorded"))] + [(e.id, expense_label(e)) for e in expenses]
    )


def _load_session(form: SessionForm, ts: TrainingSession) -> None:
    start = local(ts.starts_at)
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


def _session_fields(form: SessionForm) -> SessionFields:
    def ids(f: Any) -> list[int]:
        return [i for i in (f.data or []) if isinstance(i, int)]

    return SessionFields(
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
            ts = plan_session(db.session, current_user, _session_fields(form))
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
    ts = load_session(session_id, Action.TRAIN)
    if not may_edit(db.session, current_user, ts):
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
            update_session(
                db.session, current_user, ts, _session_fields(form), version=version_of(form)
            )
        except ConflictError:
            db.session.rollback()
            ts = load_session(session_id, Action.TRAIN)
            conflict = _differences(form, ts)
            # The next save is made knowingly over the other person's.
            form.version.data = str(ts.version)
            status = 409
        except TrainingError as exc:
            db.session.rollback()
            ts = load_session(session_id, Action.TRAIN)
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
def detail_page(
    ts: TrainingSession,
    *,
    document_form: DocumentForm | None = None,
    error: str | None = None,
) -> str:
    return render_template(
        "training/detail.html",
        ts=ts,
        may_edit=may_edit(db.session, current_user, ts),
        to_record=to_record(ts),
        expense=expense_of(db.session, current_user, ts),
        document_form=document_form or DocumentForm(formdata=None),
        satisfaction_labels=SATISFACTION,
        error=error,
        history=history_of(db.session, current_user, ts),
    )


@bp.get("/accompagnement/<int:session_id>")
@allow(Action.READ, on=(TrainingSession, "session_id"))
def detail(session_id: int) -> str:
    return detail_page(load_session(session_id))


def _status_change(session_id: int, change: Any, done: str) -> str | Response | tuple[str, int]:
    ts = load_session(session_id, Action.TRAIN)
    form = VersionForm()
    if not form.validate_on_submit():
        return redirect(url_for("training.detail", session_id=ts.id))
    try:
        change(db.session, current_user, ts, version=version_of(form))
    except ConflictError as exc:
        db.session.rollback()
        return detail_page(load_session(session_id), error=str(exc.message)), 409
    except TrainingError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    else:
        flash(done, "success")
    return redirect(url_for("training.detail", session_id=ts.id))


@bp.post("/accompagnement/<int:session_id>/annuler")
@allow(Action.TRAIN, on=(TrainingSession, "session_id"))
def cancel(session_id: int) -> str | Response | tuple[str, int]:
    return _status_change(session_id, cancel_session, _("Session cancelled."))


@bp.post("/accompagnement/<int:session_id>/retablir")
@allow(Action.TRAIN, on=(TrainingSession, "session_id"))
def reopen(session_id: int) -> str | Response | tuple[str, int]:
    return _status_change(session_id, reopen_session, _("Session planned again."))
