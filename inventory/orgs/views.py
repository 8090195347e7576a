"""Registry pages: school list, school, collectivité and circonscription pages, imports."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.changelog.services import history_of
from inventory.core import import_jobs, policy, saved_filters, sorting
from inventory.core.errors import DomainError
from inventory.core.forms import options
from inventory.core.importing import ImportFileError
from inventory.core.panels import panels
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.orgs import label_texts, services, tasks
from inventory.orgs.effectifs import import_effectifs
from inventory.orgs.forms import (
    KIND_LABELS,
    NATURE_LABELS,
    ClassroomForm,
    CollectiviteForm,
    ImportForm,
    LabelTextsForm,
    SchoolFilterForm,
)
from inventory.orgs.importers import import_annuaire
from inventory.orgs.models import (
    Circonscription,
    Classroom,
    Collectivite,
    CollectiviteKind,
    Ecole,
    SchoolNature,
)
from inventory.web import allow, int_arg

bp = Blueprint("orgs", __name__)


@bp.get("/")
@allow(Action.READ)
def home() -> str:
    """The first page after signing in: what the user's scope holds."""
    return render_template("home.html", summary=services.registry_summary(db.session, current_user))


@bp.get("/ecoles")
@allow(Action.READ)
def schools() -> str:
    nature = request.args.get("nature", "")
    filters = services.SchoolFilters(
        q=(request.args.get("q") or "")[:100],
        academie=int_arg("academie"),
        departement=int_arg("departement"),
        circonscription=int_arg("circonscription"),
        collectivite=int_arg("collectivite"),
        nature=SchoolNature(nature) if nature in SchoolNature._value2member_map_ else None,
        missing_socle=request.args.get("missing_socle", "") in {"y", "1", "on", "true"},
    )
    form = SchoolFilterForm(request.args)
    choices = services.filter_choices(db.session, current_user, filters)
    every = [(0, _("All"))]
    form.academie.choices = options(every + [(a.id, a.name) for a in choices.academies])
    form.departement.choices = options(
        every + [(d.id, f"{d.code} {d.name}") for d in choices.departements]
    )
    form.circonscription.choices = options(
        every + [(c.id, c.name) for c in choices.circonscriptions]
    )
    form.collectivite.choices = options(every + [(c.id, c.name) for c in choices.collectivites])
    sort = services.SCHOOL_SORT.read(request.args.get("sort"))
    page = services.list_schools(
        db.session,
        current_user,
        filters,
        int_arg("page") or 1,
        current_app.config["PAGE_SIZE"],
        sort,
    )
    counts = services.classroom_counts(db.session, [e.id for e in page.items])
    args = {k: v for k, v in request.args.items() if k not in {"page", "filter_name"} and v}
    return render_template(
        "orgs/schools.html",
        form=form,
        page=page,
        counts=counts,
        args=args,
        nature_labels=NATURE_LABELS,
        headers=sorting.headers(services.SCHOOL_SORT, sort),
        saved=saved_filters.filters_of(db.session, current_user, "schools"),
    )


@bp.get("/ecoles/<int:ecole_id>")
@allow(Action.READ, on=(Ecole, "ecole_id"))
def school(ecole_id: int) -> str:
    return _school_page(ecole_id, ClassroomForm())


def _school_page(ecole_id: int, form: ClassroomForm) -> str:
    ecole = services.school_detail(db.session, current_user, ecole_id)
    return render_template(
        "orgs/school.html",
        ecole=ecole,
        form=form,
        history=history_of(db.session, current_user, ecole, whole_school=True),
        nature_labels=NATURE_LABELS,
        may_edit=policy.allowed(current_user, Action.EDIT),
        panels=panels("orgs.school", db.session, current_user, ecole),
    )


@bp.post("/ecoles/<int:ecole_id>/classes")
@allow(Action.EDIT, on=(Ecole, "ecole_id"))
def add_classroom(ecole_id: int) -> tuple[str, int] | Response:
    ecole = policy.load_or_404(current_user, Ecole, ecole_id, db.session, Action.EDIT)
    form = ClassroomForm()
    if form.validate_on_submit():
        try:
            room = services.add_classroom(
                db.session,
                current_user,
                ecole,
                form.name.data or "",
                form.levels.data or [],
                form.pupils.data,
            )
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "name").errors = [str(exc.message)]
        else:
            flash(_("Classroom «%(name)s» added.", name=room.name), "success")
            return redirect(url_for("orgs.school", ecole_id=ecole.id))
    return _school_page(ecole_id, form), 422


@bp.route("/classes/<int:classroom_id>", methods=["GET", "POST"])
@allow(Action.READ, on=(Classroom, "classroom_id"))
def classroom(classroom_id: int) -> str | Response:
    room = policy.load_or_404(current_user, Classroom, classroom_id, db.session)
    may_edit = policy.allowed(current_user, Action.EDIT)
    form = ClassroomForm(obj=None)
    if request.method == "GET":
        form.name.data, form.levels.data, form.pupils.data = room.name, room.level_list, room.pupils
    elif not may_edit:
        raise policy.Denied()
    elif form.validate_on_submit():
        try:
            services.update_classroom(
                db.session,
                current_user,
                room,
                form.name.data or "",
                form.levels.data or [],
                form.pupils.data,
            )
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "name").errors = [str(exc.message)]
        else:
            flash(_("Classroom saved."), "success")
            return redirect(url_for("orgs.school", ecole_id=room.ecole_id))
    return render_template(
        "orgs/classroom.html",
        room=room,
        ecole=room.ecole,
        form=form,
        may_edit=may_edit,
        history=history_of(db.session, current_user, room),
        panels=panels("orgs.classroom", db.session, current_user, room),
    )


@bp.get("/collectivites/<int:collectivite_id>")
@allow(Action.READ, on=(Collectivite, "collectivite_id"))
def collectivite(collectivite_id: int) -> str:
    coll = services.collectivite_detail(db.session, current_user, collectivite_id)
    form = CollectiviteForm(name=coll.name, kind=coll.kind.value)
    return _collectivite_page(coll, form)


def _collectivite_page(
    coll: Collectivite, form: CollectiviteForm, labels_form: LabelTextsForm | None = None
) -> str:
    if labels_form is None:
        labels_form = LabelTextsForm(
            formdata=None, prefix="labels", mention=coll.label_mention, prompt=coll.label_prompt
        )
    form.offer_kinds(coll.kind is CollectiviteKind.COMMUNE and coll.commune_id is not None)
    group = services.school_group(db.session, current_user, coll.name, collectivite_id=coll.id)
    return render_template(
        "orgs/collectivite.html",
        coll=coll,
        form=form,
        labels_form=labels_form,
        may_rename=policy.allowed(current_user, Action.ADMIN),
        kind_labels=KIND_LABELS,
        ecoles=group.ecoles,
        panels=panels("orgs.collectivite", db.session, current_user, group),
        nature_labels=NATURE_LABELS,
        history=history_of(db.session, current_user, coll),
    )


@bp.post("/collectivites/<int:collectivite_id>/identite")
@allow(Action.ADMIN, on=(Collectivite, "collectivite_id"))
def rename_collectivite(collectivite_id: int) -> str | tuple[str, int] | Response:
    """An administrator names the collectivité and sets its kind (from its page)."""
    coll = services.collectivite_detail(db.session, current_user, collectivite_id)
    form = CollectiviteForm()
    form.offer_kinds(coll.kind is CollectiviteKind.COMMUNE and coll.commune_id is not None)
    if form.validate_on_submit():
        try:
            services.rename_collectivite(
                db.session,
                current_user,
                coll,
                name=form.name.data or "",
                kind=CollectiviteKind(form.kind.data),
            )
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "name").errors = [str(exc.message)]
            coll = services.collectivite_detail(db.session, current_user, collectivite_id)
        else:
            flash(_("Collectivité «%(name)s» saved.", name=coll.name), "success")
            return redirect(url_for("orgs.collectivite", collectivite_id=coll.id))
    return _collectivite_page(coll, form), 422


@bp.post("/collectivites/<int:collectivite_id>/etiquettes")
@allow(Action.ADMIN, on=(Collectivite, "collectivite_id"))
def collectivite_label_texts(collectivite_id: int) -> str | tuple[str, int] | Response:
    """An administrator sets the default mention and the scan prompt of its labels."""
    coll = services.collectivite_detail(db.session, current_user, collectivite_id)
    labels_form = LabelTextsForm(prefix="labels")
    if labels_form.validate_on_submit():
        try:
            label_texts.set_label_texts(
                db.session,
                current_user,
                coll,
                mention=labels_form.mention.data,
                prompt=labels_form.prompt.data,
            )
        except DomainError as exc:
            db.session.rollback()
            getattr(labels_form, exc.field or "mention").errors = [str(exc.message)]
            coll = services.collectivite_detail(db.session, current_user, collectivite_id)
        else:
            flash(_("The labels of «%(name)s» are saved.", name=coll.name), "success")
            return redirect(url_for("orgs.collectivite", collectivite_id=coll.id))
    form = CollectiviteForm(formdata=None, name=coll.name, kind=coll.kind.value)
    return _collectivite_page(coll, form, labels_form), 422


@bp.get("/circonscriptions/<int:circonscription_id>")
@allow(Action.READ, on=(Circonscription, "circonscription_id"))
def circonscription(circonscription_id: int) -> str:
    circo = policy.load_or_404(current_user, Circonscription, circonscription_id, db.session)
    group = services.school_group(db.session, current_user, circo.name, circonscription_id=circo.id)
    return render_template(
        "orgs/circonscription.html",
        circo=circo,
        ecoles=group.ecoles,
        panels=panels("orgs.circonscription", db.session, current_user, group),
        nature_labels=NATURE_LABELS,
    )


@bp.route("/admin/import", methods=["GET", "POST"])
@allow(Action.ADMIN)
def import_file() -> Any:
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        if import_jobs.too_large_for_a_request(data):
            job = tasks.queue_import(
                db.session, data, upload.filename or "", kind=form.kind.data, year=form.year.data
            )
            return redirect(url_for("jobs.progress", job_id=job.id))
        try:
            if form.kind.data == "annuaire":
                report = import_annuaire(db.session, data, upload.filename or "")
            else:
                report = import_effectifs(
                    db.session, data, upload.filename or "", year=form.year.data or None
                )
        except ImportFileError as exc:
            db.session.rollback()
            form.file.errors = [str(exc)]
    status = 422 if form.errors else 200
    return render_template("orgs/import.html", form=form, report=report), status
