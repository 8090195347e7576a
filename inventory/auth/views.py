"""Sign-in and out, password reset and invitations, user administration."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from inventory.auth import services
from inventory.auth.forms import (
    ROLE_LABELS,
    ForgotForm,
    LoginForm,
    NewPasswordForm,
    SavedFilterForm,
    UserForm,
)
from inventory.auth.models import User
from inventory.auth.providers import enabled_providers, password_allowed
from inventory.auth.session import begin_session, end_sessions
from inventory.auth.sso_views import provider_logout
from inventory.core import addresses, policy, rate_limits, saved_filters
from inventory.core.errors import DomainError
from inventory.core.forms import options
from inventory.core.mail import MailState, recent_messages
from inventory.core.policy import Action, Role, ScopeKind
from inventory.extensions import db, limiter
from inventory.orgs.services import scope_choices
from inventory.web import allow, safe_next

bp = Blueprint("auth", __name__)


def _account_key() -> str:
    return "login-account:" + services.normalize_email(request.form.get("email", ""))


# Per account, then per address (LOGIN_LIMITS). Each attempt takes its place before the
# password is checked, so that wrong passwords sent at once cannot outnumber the limit; a
# sign-in that succeeds gives its place back. Once the account's limit is reached, even
# the right password is refused until the window ends.
@bp.route("/login", methods=["GET", "POST"])
@allow(None)
@rate_limits.checked(
    lambda: current_app.config["LOGIN_LIMITS"][0], key_func=_account_key, methods=["POST"]
)
@rate_limits.checked(lambda: current_app.config["LOGIN_LIMITS"][1], methods=["POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("orgs.home"))
    form = LoginForm()
    if form.validate_on_submit():
        place = rate_limits.reserve("sign-in")
        if place is None:
            abort(429)
        try:
            user = services.authenticate(
                db.session, form.email.data or "", form.password.data or ""
            )
        except DomainError as exc:
            place.give_back()
            form.email.errors = [str(exc.message)]
        else:
            if user is not None:
                place.give_back()
                begin_session(user)
                return redirect(safe_next(request.args.get("next"), url_for("orgs.home")))
            flash(_("Wrong email or password."), "error")
    return render_template(
        "auth/login.html",
        form=form,
        providers=enabled_providers(db.session),
        next=safe_next(request.args.get("next"), ""),
    )


@bp.post("/logout")
@allow(Action.READ)
def logout() -> str | Response:
    # On the server too: a copy of this session's cookie, replayed later, is refused.
    back = url_for("auth.login", _external=True)
    at_provider = provider_logout(back)
    end_sessions(db.session, current_user)
    logout_user()
    if at_provider:
        # Signed in through a provider: its session ends too, and it sends the person back
        # here. A page leads there rather than a redirection of this form's answer, which
        # the pages' Content-Security-Policy (form-action 'self') would block.
        return render_template("auth/signed_out.html", provider_url=at_provider)
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@allow(None)
@limiter.limit("5 per 15 minutes", methods=["POST"])
def forgot_password() -> str | Response:
    form = ForgotForm()
    if form.validate_on_submit():
        services.request_password_reset(
            db.session,
            current_app.config,
            form.email.data or "",
            lambda token: url_for("auth.reset_password", token=token, _external=True),
        )
        flash(
            _("If an account uses this email, a link to reset the password was sent to it."), "info"
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


def _choose_password(token: str, purpose: str, max_age: int) -> str | Response:
    user = services.user_from_token(
        db.session, current_app.config["SECRET_KEY"], token, purpose, max_age
    )
    if user is None:
        flash(_("This link is invalid, expired or already used."), "error")
        return redirect(url_for("auth.forgot_password"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(db.session, user, form.password.data or "")
        except DomainError as exc:
            form.password.errors = [str(exc.message)]
        else:
            logout_user()
            flash(_("Your password is saved. You can sign in."), "success")
            return redirect(url_for("auth.login"))
    # An invitation may be accepted by signing in with an identity provider instead.
    sso = enabled_providers(db.session) if purpose == "invite" else []
    return render_template(
        "auth/new_password.html",
        form=form,
        purpose=purpose,
        providers=sso,
        token=token,
        password_allowed=password_allowed(db.session, user.email),
    )


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@allow(None)
def reset_password(token: str) -> str | Response:
    return _choose_password(token, "reset", services.RESET_MAX_AGE)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@allow(None)
def accept_invitation(token: str) -> str | Response:
    return _choose_password(token, "invite", services.INVITE_MAX_AGE)


# -- administration ------------------------------------------------------------------------
@bp.get("/admin/users")
@allow(Action.ADMIN)
def users() -> str:
    return render_template(
        "auth/users.html",
        users=services.list_users(db.session, current_user),
        role_labels=ROLE_LABELS,
        qr_address=addresses.base_url(),
        qr_address_configured=addresses.configured() is not None,
        qr_address_missing=addresses.MISSING,
    )


def _user_form(user: User | None) -> UserForm:
    form = UserForm(obj=None)
    choices = scope_choices(db.session)
    for kind, field in _SCOPE_FIELDS.items():
        getattr(form, field).choices = options(choices[kind])
    if user is not None and request.method == "GET":
        form.email.data, form.name.data = user.email, user.name
        form.role.data, form.active.data = user.role.value, user.active
        for kind, field in _SCOPE_FIELDS.items():
            getattr(form, field).data = [s.ref_id for s in user.scopes if s.kind is kind]
    return form


_SCOPE_FIELDS = {
    ScopeKind.COLLECTIVITE: "collectivites",
    ScopeKind.ACADEMIE: "academies",
    ScopeKind.DEPARTEMENT: "departements",
    ScopeKind.CIRCONSCRIPTION: "circonscriptions",
}


def _field_for(form: UserForm, name: str | None, default: str) -> Any:
    """The form field a service error is about; scope errors show on the first scope list."""
    if name == "scopes":
        name = "collectivites"
    return getattr(form, name or default, None) or getattr(form, default)


def _scopes_from(form: UserForm) -> list[services.ScopeChoice]:
    return [
        services.ScopeChoice(kind, ref_id)
        for kind, field in _SCOPE_FIELDS.items()
        for ref_id in (getattr(form, field).data or [])
    ]


@bp.route("/admin/users/new", methods=["GET", "POST"])
@allow(Action.ADMIN)
def invite() -> str | Response:
    form = _user_form(None)
    if form.validate_on_submit():
        try:
            user = services.invite_user(
                db.session,
                current_app.config,
                current_user,
                lambda token: url_for("auth.accept_invitation", token=token, _external=True),
                email=form.email.data or "",
                name=form.name.data or "",
                role=Role(form.role.data),
                scopes=_scopes_from(form),
            )
        except DomainError as exc:
            db.session.rollback()
            _field_for(form, exc.field, "email").errors = [str(exc.message)]
        else:
            flash(_("Invitation sent to %(email)s.", email=user.email), "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@allow(Action.ADMIN, on=(User, "user_id"))
def edit_user(user_id: int) -> str | Response:
    user = policy.load_or_404(current_user, User, user_id, db.session, Action.ADMIN)
    form = _user_form(user)
    form.email.data = user.email
    if form.validate_on_submit():
        try:
            services.update_user(
                db.session,
                current_user,
                user,
                name=form.name.data or "",
                role=Role(form.role.data),
                scopes=_scopes_from(form),
                active=bool(form.active.data),
            )
        except DomainError as exc:
            db.session.rollback()
            _field_for(form, exc.field, "role").errors = [str(exc.message)]
        else:
            flash(_("Account saved."), "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user)


@bp.get("/admin/outbox")
@allow(Action.ADMIN)
def outbox() -> str:
    shown = request.args.get("show", "")
    states = (MailState.PENDING, MailState.SENDING, MailState.FAILED) if shown else ()
    messages = recent_messages(db.session, states)
    return render_template(
        "auth/outbox.html", messages=messages, shown=shown, state_labels=MAIL_STATE_LABELS
    )


MAIL_STATE_LABELS = {
    MailState.PENDING: _l("waiting to be sent"),
    MailState.SENDING: _l("being sent"),
    MailState.SENT: _l("sent"),
    MailState.FAILED: _l("failed: no more attempts"),
    MailState.LOCAL: _l("kept here (no mail server configured)"),
}


# -- saved filters -------------------------------------------------------------------------
# Where each list whose filters can be saved lives.
SAVED_LIST_PAGES = {
    "equipment": "assets.index",
    "works": "assets.works",
    "tickets": "helpdesk.queue",
    "schools": "orgs.schools",
    "dossiers": "grants.dossiers",
    "training": "training.sessions",
}


def _list_page(list_name: str, query: str) -> str:
    endpoint = SAVED_LIST_PAGES.get(list_name)
    if endpoint is None:
        abort(404)
    return url_for(endpoint) + (f"?{query}" if query else "")


@bp.post("/filtres")
@allow(Action.READ)
def save_filter() -> Response:
    """Save the filters of the list the form sits on, and come back to it."""
    form = SavedFilterForm()
    list_name, query = form.list_name.data or "", form.query.data or ""
    back = _list_page(list_name, saved_filters.clean_query(query))
    if not form.validate_on_submit():
        flash(_("The form expired: send it again."), "error")
        return redirect(back)
    try:
        saved = saved_filters.save_filter(
            db.session, current_user, list_name=list_name, name=form.name.data, query=query
        )
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        # The name typed comes back into the form: nothing is lost.
        typed = urlencode({"filter_name": (form.name.data or "")[:200]})
        return redirect(back + ("&" if "?" in back else "?") + typed)
    flash(_("Filters «%(name)s» saved.", name=saved.name), "success")
    return redirect(_list_page(list_name, saved.query))


@bp.post("/filtres/<int:filter_id>/supprimer")
@allow(Action.READ)
def delete_filter(filter_id: int) -> Response:
    form = FlaskForm()
    if not form.validate_on_submit():
        flash(_("The form expired: send it again."), "error")
        return redirect(safe_next(request.form.get("next"), url_for("orgs.home")))
    saved = saved_filters.delete_filter(db.session, current_user, filter_id)
    flash(_("Filters «%(name)s» deleted.", name=saved.name), "success")
    return redirect(safe_next(request.form.get("next"), _list_page(saved.list_name, "")))
