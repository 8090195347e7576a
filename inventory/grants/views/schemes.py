"""The schemes' administration: the list, the shipped presets, a scheme's editor and the
socle référentiel it sets."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.assets.referentiels import all_referentiels
from inventory.core import policy
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants import referentiels
from inventory.grants import schemes as funding
from inventory.grants.common import GrantError
from inventory.grants.forms import SchemeForm, SchemeReferentielForm, VersionForm
from inventory.grants.models import FundingScheme
from inventory.grants.views.blueprint import bp
from inventory.web import allow, attach_error


# -- schemes -------------------------------------------------------------------------------
@bp.get("/dispositifs")
@allow(Action.ADMIN)
def schemes() -> str:
    schemes = funding.schemes(db.session)
    return render_template(
        "grants/schemes.html",
        schemes=schemes,
        scheme_dates={s.id: funding.SchemeDates.of(s.rules) for s in schemes},
        install_form=VersionForm(),
    )


@bp.post("/dispositifs/installer")
@allow(Action.ADMIN)
def install_presets() -> Response:
    if not VersionForm().validate_on_submit():
        abort(400)
    created = funding.install_presets(db.session)
    if created:
        flash(_("Installed: %(codes)s.", codes=", ".join(created)), "success")
    else:
        flash(_("The shipped schemes were already installed."), "success")
    return redirect(url_for("grants.schemes"))


def _scheme_page(form: SchemeForm, scheme: FundingScheme | None, status: int) -> tuple[str, int]:
    return render_template("grants/scheme_form.html", form=form, scheme=scheme), status


def _save_scheme(form: SchemeForm, scheme: FundingScheme | None) -> FundingScheme:
    fields = funding.SchemeFields(
        code=form.code.data or "",
        name=form.name.data or "",
        note=form.note.data,
        funding_mention=form.funding_mention.data,
        label_emblem=bool(form.label_emblem.data),
        label_france_relance=bool(form.label_france_relance.data),
        active=bool(form.active.data),
    )
    dates = funding.SchemeDates(
        spending_from=form.spending_from.data,
        spending_to=form.spending_to.data,
        claim_deadline=form.claim_deadline.data,
    )
    rules = funding.parse_rules(form.rules.data or "")
    return funding.save_scheme(db.session, current_user, scheme, fields, rules, dates)


def _scheme_view(scheme: FundingScheme | None) -> str | Response | tuple[str, int]:
    form = SchemeForm()
    if request.method == "GET":
        if scheme is not None:
            for name in (
                "code",
                "name",
                "note",
                "funding_mention",
                "label_emblem",
                "label_france_relance",
                "active",
            ):
                form[name].data = getattr(scheme, name)
            dates = funding.SchemeDates.of(scheme.rules)
            form.spending_from.data = dates.spending_from
            form.spending_to.data = dates.spending_to
            form.claim_deadline.data = dates.claim_deadline
            form.rules.data = json.dumps(
                funding.rules_without_dates(scheme.rules), indent=2, ensure_ascii=False
            )
        else:
            form.rules.data = json.dumps(
                {
                    "vat_included": True,
                    "volets": [
                        {
                            "code": "equipement",
                            "label": "Équipement",
                            "tiers": [{"rate": "0.50", "up_to_cents": None}],
                        }
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        return _scheme_page(form, scheme, 200)
    if form.validate_on_submit():
        before = scheme.version if scheme is not None else None
        try:
            saved = _save_scheme(form, scheme)
        except GrantError as exc:
            db.session.rollback()
            attach_error(form, exc, "rules")
        else:
            if before is not None and saved.version != before:
                flash(
                    _(
                        "Scheme saved; its rules are now version %(version)s. Existing dossiers "
                        "keep their rules until someone applies the new ones.",
                        version=saved.version,
                    ),
                    "success",
                )
            else:
                flash(_("Scheme saved."), "success")
            return redirect(url_for("grants.schemes"))
    return _scheme_page(form, scheme, 422)


@bp.route("/dispositifs/nouveau", methods=["GET", "POST"])
@allow(Action.ADMIN)
def new_scheme() -> str | Response | tuple[str, int]:
    return _scheme_view(None)


@bp.route("/dispositifs/<int:scheme_id>", methods=["GET", "POST"])
@allow(Action.ADMIN, on=(FundingScheme, "scheme_id"))
def edit_scheme(scheme_id: int) -> str | Response | tuple[str, int]:
    scheme = policy.load_or_404(current_user, FundingScheme, scheme_id, db.session, Action.ADMIN)
    return _scheme_view(scheme)


@bp.route("/dispositifs/<int:scheme_id>/referentiel", methods=["GET", "POST"])
@allow(Action.ADMIN, on=(FundingScheme, "scheme_id"))
def scheme_referentiel(scheme_id: int) -> str | Response:
    """The socle référentiel a scheme sets (its requirements are edited on its page)."""
    scheme = policy.load_or_404(current_user, FundingScheme, scheme_id, db.session, Action.ADMIN)
    form = SchemeReferentielForm()
    choices = all_referentiels(db.session)
    form.referentiel.choices = options([(0, _("None")), *((r.id, r.name) for r in choices)])
    if request.method == "GET":
        form.referentiel.data = scheme.referentiel_id or 0
    elif form.validate_on_submit():
        referentiels.set_referentiel(
            db.session, current_user, scheme, form.referentiel.data or None
        )
        flash(_("Scheme saved."), "success")
        return redirect(url_for("grants.edit_scheme", scheme_id=scheme.id))
    return render_template(
        "grants/scheme_referentiel.html", scheme=scheme, form=form, referentiels=choices
    )
