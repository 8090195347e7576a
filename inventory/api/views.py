"""The pages of API tokens: "Mes jetons d'API" for anyone signed in (create: the secret
shown once; list; revoke), and everyone's for an administrator."""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.api import tokens
from inventory.api.forms import TokenForm
from inventory.api.models import TokenScope
from inventory.core.errors import DomainError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.web import allow, attach_error

bp = Blueprint("api_tokens", __name__)


def _page(form: TokenForm, secret: str | None = None) -> str:
    return render_template(
        "api/tokens.html",
        form=form,
        tokens=tokens.tokens_of(db.session, current_user),
        secret=secret,
    )


@bp.get("/compte/jetons-api")
@allow(Action.READ)
def mine() -> str:
    return _page(TokenForm())


@bp.post("/compte/jetons-api")
@allow(Action.READ)
def create() -> str | tuple[str, int]:
    form = TokenForm()
    if form.validate_on_submit():
        expires_at = (
            datetime.combine(form.expires_on.data, time(23, 59, 59), tzinfo=UTC)
            if form.expires_on.data
            else None
        )
        try:
            new = tokens.create_token(
                db.session,
                current_user,
                name=form.name.data or "",
                scope=TokenScope(form.scope.data),
                expires_at=expires_at,
                networks=form.networks.data or "",
            )
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc, "name", {"expires_at": "expires_on"})
        else:
            # Shown on this answer only (never in the session, never again).
            return _page(TokenForm(formdata=None), secret=new.secret)
    return _page(form), 422


@bp.post("/compte/jetons-api/<int:token_id>/revoquer")
@allow(Action.READ)
def revoke(token_id: int) -> Response:
    token = tokens.revoke_token(db.session, current_user, token_id)
    flash(_("Token «%(name)s» revoked.", name=token.name), "success")
    if request.form.get("from") == "admin" and token.user_id != current_user.id:
        return redirect(url_for("api_tokens.everyone"))
    return redirect(url_for("api_tokens.mine"))


@bp.get("/admin/jetons-api")
@allow(Action.ADMIN)
def everyone() -> str:
    return render_template(
        "api/all_tokens.html", tokens=tokens.every_token(db.session, current_user)
    )
