"""The catalogue of models: the list, one model and what it has built in."""

from __future__ import annotations

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.assets import catalogue
from inventory.assets.forms import (
    EndOfLifeForm,
    ModelCapabilitiesForm,
    ModelFilterForm,
)
from inventory.assets.views.common import (
    _category_choices,
    _page,
    _per_page,
    bp,
)
from inventory.changelog.services import history_of
from inventory.core import policy
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.web import allow, int_arg


# -- the catalogue -------------------------------------------------------------------------
@bp.get("/equipements/modeles")
@allow(Action.READ)
def models() -> str:
    filters = catalogue.ModelFilters(
        q=(request.args.get("q") or "")[:100], category=int_arg("category")
    )
    form = ModelFilterForm(request.args)
    cats = catalogue.categories(db.session)
    form.category.choices = _category_choices(cats, _("All"))
    page = catalogue.list_models(db.session, current_user, filters, _page(), _per_page())
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "assets/models.html",
        form=form,
        page=page,
        args=args,
        may_admin=policy.allowed(current_user, Action.ADMIN),
    )


@bp.route("/equipements/modeles/<int:model_id>", methods=["GET", "POST"])
@allow(Action.READ)
def model(model_id: int) -> str | Response | tuple[str, int]:
    detail = catalogue.model_detail(db.session, current_user, model_id)
    item = detail.model
    may_admin = policy.allowed(current_user, Action.ADMIN)
    form = ModelCapabilitiesForm()
    if request.method == "GET":
        form.own.data = item.capabilities is not None
        form.capabilities.data = [c.value for c in item.capability_list]
    elif not may_admin:
        raise policy.Denied()
    elif form.validate_on_submit():
        wanted = list(form.capabilities.data or []) if form.own.data else None
        catalogue.set_capabilities(db.session, current_user, item, wanted)
        flash(_("Model %(name)s saved.", name=item.full_name), "success")
        return redirect(url_for("assets.model", model_id=item.id))
    return render_template(
        "assets/model.html",
        detail=detail,
        model=item,
        form=form,
        may_admin=may_admin,
        end_form=EndOfLifeForm(data={"end_of_life": item.end_of_life}),
        history=history_of(db.session, current_user, item),
    ), (422 if form.errors else 200)
