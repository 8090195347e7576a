"""Socle référentiel pages: what the socle asks, and the administrator's editor.

Everyone signed in reads the référentiels (what a figure means); an administrator adds,
changes and deactivates their requirements, copies a référentiel for another programme
and chooses the current one, whose requirements make every socle figure."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from inventory.assets import referentiels
from inventory.assets.catalogue import categories
from inventory.assets.digital import SERVICE_KIND_LABELS, SERVICE_KIND_SHORT
from inventory.assets.forms import ReferentielForm, RequirementForm
from inventory.assets.models import (
    Referentiel,
    RequirementKind,
    RequirementLevel,
    SocleRequirement,
)
from inventory.assets.referentiels import (
    CAPABILITY_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
    ReferentielError,
    RequirementFields,
)
from inventory.assets.socle import current_referentiel
from inventory.assets.works import WORK_KIND_LABELS
from inventory.changelog.services import history_of
from inventory.core import policy
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.web import allow, attach_error, language, share_labels

bp = Blueprint("socle", __name__)


# Labels of the référentiels' words, for these pages and the socle panels.
share_labels(
    bp,
    requirement_level_labels=LEVEL_LABELS,
    requirement_kind_labels=KIND_LABELS,
    capability_labels=CAPABILITY_LABELS,
    service_kind_labels=SERVICE_KIND_LABELS,
    service_kind_short=SERVICE_KIND_SHORT,
)


def _is_admin() -> bool:
    return policy.allowed(current_user, Action.ADMIN)


@bp.get("/socle/referentiel")
@allow(Action.READ)
def current() -> str:
    """The current référentiel's page, at an address that follows it."""
    ref = current_referentiel(db.session)
    if ref is None:
        return index()
    return _referentiel_page(ref, _edit_form(ref), _copy_form(ref))


@bp.get("/socle/referentiels")
@allow(Action.READ)
def index() -> str:
    return render_template(
        "assets/referentiels.html",
        referentiels=referentiels.all_referentiels(db.session),
        may_admin=_is_admin(),
    )


def _referentiel_page(ref: Referentiel, form: ReferentielForm, copy_form: ReferentielForm) -> str:
    ref = referentiels.referentiel_detail(db.session, current_user, ref.id)
    cats = {c.code: c for c in categories(db.session)}
    return render_template(
        "assets/referentiel.html",
        ref=ref,
        groups=referentiels.grouped(ref.requirements),
        category_names=cats,
        work_kind_labels=WORK_KIND_LABELS,
        may_admin=_is_admin(),
        form=form,
        copy_form=copy_form,
        action_form=FlaskForm(),
        history=referentiels.history(db.session, current_user, ref),
    )


def _edit_form(ref: Referentiel) -> ReferentielForm:
    form = ReferentielForm()
    form.code.data, form.name.data, form.note.data = ref.code, ref.name, ref.note
    return form


def _copy_form(ref: Referentiel) -> ReferentielForm:
    form = ReferentielForm(prefix="copy")
    if request.method == "GET" or not form.is_submitted():
        form.code.data = f"{ref.code}-copie"[:60]
        form.name.data = _("Copy of %(name)s", name=ref.name)[:200]
    return form


@bp.route("/socle/referentiels/<int:referentiel_id>", methods=["GET", "POST"])
@allow(Action.READ)
def referentiel(referentiel_id: int) -> str | Response | tuple[str, int]:
    ref = policy.load_or_404(current_user, Referentiel, referentiel_id, db.session)
    if request.method == "GET":
        return _referentiel_page(ref, _edit_form(ref), _copy_form(ref))
    form = ReferentielForm()
    if not _is_admin():
        raise policy.Denied()
    if form.validate_on_submit():
        try:
            referentiels.save_referentiel(
                db.session,
                current_user,
                ref,
                referentiels.ReferentielFields(
                    form.code.data or "", form.name.data or "", form.note.data
                ),
            )
        except ReferentielError as exc:
            db.session.rollback()
            attach_error(form, exc, "name")
        else:
            flash(_("Référentiel saved."), "success")
            return redirect(url_for("socle.referentiel", referentiel_id=ref.id))
    return _referentiel_page(ref, form, _copy_form(ref)), 422


@bp.post("/socle/referentiels/<int:referentiel_id>/courant")
@allow(Action.ADMIN)
def make_current(referentiel_id: int) -> Response:
    ref = policy.load_or_404(current_user, Referentiel, referentiel_id, db.session, Action.ADMIN)
    if FlaskForm().validate_on_submit():
        referentiels.make_current(db.session, current_user, ref)
        message = _(
            "%(name)s is now the current référentiel: every socle figure follows it.",
            name=ref.name,
        )
        flash(message, "success")
    return redirect(url_for("socle.referentiel", referentiel_id=ref.id))


@bp.post("/socle/referentiels/<int:referentiel_id>/copie")
@allow(Action.ADMIN)
def copy(referentiel_id: int) -> str | Response | tuple[str, int]:
    ref = policy.load_or_404(current_user, Referentiel, referentiel_id, db.session, Action.ADMIN)
    ref = referentiels.referentiel_detail(db.session, current_user, ref.id)
    copy_form = ReferentielForm(prefix="copy")
    if copy_form.validate_on_submit():
        try:
            made = referentiels.copy_referentiel(
                db.session,
                current_user,
                ref,
                referentiels.ReferentielFields(
                    copy_form.code.data or "", copy_form.name.data or "", copy_form.note.data
                ),
            )
        except ReferentielError as exc:
            db.session.rollback()
            attach_error(copy_form, exc, "name")
        else:
            flash(_("Référentiel %(name)s created.", name=made.name), "success")
            return redirect(url_for("socle.referentiel", referentiel_id=made.id))
    return _referentiel_page(ref, _edit_form(ref), copy_form), 422


# -- requirements ----------------------------------------------------------------------------
def _requirement_form() -> RequirementForm:
    form = RequirementForm()
    form.categories.choices = options((c.code, c.label(_locale())) for c in categories(db.session))
    return form


def _locale() -> str:
    return language()


def _fields(form: RequirementForm) -> RequirementFields:
    try:
        level, kind = RequirementLevel(form.level.data), RequirementKind(form.kind.data)
    except ValueError:
        raise ReferentielError(_("Choose where it is asked and what meets it."), "level") from None
    return RequirementFields(
        code=form.code.data or "",
        level=level,
        kind=kind,
        label_fr=form.label_fr.data or "",
        label_en=form.label_en.data or "",
        categories=list(form.categories.data or []),
        work_kinds=list(form.work_kinds.data or []),
        service_kinds=list(form.service_kinds.data or []),
        capabilities=list(form.capabilities.data or []),
        minimum=form.minimum.data if form.minimum.data is not None else 1,
        ratio_items=form.ratio_items.data,
        ratio_classes=form.ratio_classes.data,
        active=bool(form.active.data),
        position=form.position.data or 0,
    )


def _requirement_page(
    ref: Referentiel, form: RequirementForm, requirement: SocleRequirement | None, status: int
) -> tuple[str, int]:
    return render_template(
        "assets/requirement_form.html",
        ref=ref,
        form=form,
        requirement=requirement,
        history=history_of(db.session, current_user, requirement) if requirement else [],
    ), status


def _save(
    ref: Referentiel, form: RequirementForm, requirement: SocleRequirement | None
) -> str | Response | tuple[str, int]:
    if form.validate_on_submit():
        try:
            saved = referentiels.save_requirement(
                db.session, current_user, ref, requirement, _fields(form)
            )
        except ReferentielError as exc:
            db.session.rollback()
            attach_error(form, exc, "code")
        else:
            flash(_("Requirement «%(label)s» saved.", label=saved.label(_locale())), "success")
            return redirect(url_for("socle.referentiel", referentiel_id=ref.id))
    return _requirement_page(ref, form, requirement, 422)


@bp.route("/socle/referentiels/<int:referentiel_id>/exigences/nouvelle", methods=["GET", "POST"])
@allow(Action.ADMIN)
def new_requirement(referentiel_id: int) -> str | Response | tuple[str, int]:
    ref = policy.load_or_404(current_user, Referentiel, referentiel_id, db.session, Action.ADMIN)
    form = _requirement_form()
    if request.method == "GET":
        form.position.data = referentiels.next_position(ref)
        form.active.data = True
        return _requirement_page(ref, form, None, 200)
    return _save(ref, form, None)


@bp.route("/socle/exigences/<int:requirement_id>", methods=["GET", "POST"])
@allow(Action.ADMIN)
def requirement(requirement_id: int) -> str | Response | tuple[str, int]:
    req = policy.load_or_404(
        current_user, SocleRequirement, requirement_id, db.session, Action.ADMIN
    )
    form = _requirement_form()
    if request.method == "GET":
        for name in ("code", "label_fr", "label_en", "minimum", "ratio_items", "ratio_classes"):
            form[name].data = getattr(req, name)
        form.level.data, form.kind.data = req.level.value, req.kind.value
        form.categories.data = req.categories
        form.work_kinds.data = req.kinds
        form.service_kinds.data = req.services
        form.capabilities.data = [c.value for c in req.capability_list]
        form.position.data, form.active.data = req.position, req.active
        return _requirement_page(req.referentiel, form, req, 200)
    return _save(req.referentiel, form, req)


@bp.post("/socle/exigences/<int:requirement_id>/active")
@allow(Action.ADMIN)
def toggle_requirement(requirement_id: int) -> Response:
    req = policy.load_or_404(
        current_user, SocleRequirement, requirement_id, db.session, Action.ADMIN
    )
    if FlaskForm().validate_on_submit():
        active = request.form.get("active") == "1"
        referentiels.set_active(db.session, current_user, req, active)
        label = req.label(_locale())
        if active:
            flash(_("Requirement «%(label)s» counted again.", label=label), "success")
        else:
            flash(_("Requirement «%(label)s» deactivated.", label=label), "success")
    return redirect(url_for("socle.referentiel", referentiel_id=req.referentiel_id))
