"""Sign-in through an identity provider (OpenID Connect, CAS), and the administrator's
pages of providers, rules and SSO-only domains."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from inventory.auth import cas, identities, oidc, providers, services
from inventory.auth.forms import ROLE_LABELS, SCOPE_KIND_LABELS
from inventory.auth.identities import SignInFailure
from inventory.auth.session import begin_session
from inventory.auth.sso_forms import KIND_LABELS, DomainForm, ProviderForm, RuleForm
from inventory.auth.sso_models import IdentityProvider, ProviderKind, SsoDomain, SsoRule
from inventory.core import policy
from inventory.core.errors import ConflictError, DomainError
from inventory.core.forms import sent_version
from inventory.core.policy import Action, Role, ScopeKind
from inventory.extensions import db, limiter
from inventory.orgs.services import scope_choices
from inventory.web import allow, safe_next

bp = Blueprint("sso", __name__)

# Kept in the session between the redirection to the provider and its answer, then at
# sign-in: which provider signed the person in, and its ID token (the logout's hint).
NEXT, INVITE, PROVIDER, ID_TOKEN = "sso_next", "sso_invite", "sso_provider", "sso_id_token"

FAILURE_MESSAGES = {
    "denied": _l("You did not allow Socle to know who you are, so you are not signed in."),
    "state": _l(
        "This answer of the identity provider does not belong to the sign-in started "
        "here (it was altered, or started in another window). Sign in again."
    ),
    "expired": _l("The identity provider's proof of who you are has expired. Sign in again."),
    "acr": _l(
        "The identity provider did not authenticate you at the level Socle requires. "
        "Sign in again with a stronger method."
    ),
    "invalid": _l("The identity provider's answer could not be checked. Sign in again."),
    "unreachable": _l("The identity provider cannot be reached now. Try again later."),
    "unknown": _l(
        "You are authenticated, but Socle has no account for you. Ask your administrator "
        "for an invitation, then accept it with this provider."
    ),
    "inactive": _l("Your account is deactivated. Ask your administrator."),
}
FAILURE_STATUS = {"denied": 403, "unknown": 403, "inactive": 403, "unreachable": 502}


def _limit() -> str:
    return str(current_app.config.get("SSO_LIMIT", "30 per minute"))


def _provider(code: str) -> IdentityProvider:
    provider = providers.provider_by_code(db.session, code)
    if provider is None:
        abort(404)
    return provider


def _failure(provider: IdentityProvider | None, reason: str) -> tuple[str, int]:
    session.pop(INVITE, None)
    return render_template(
        "auth/sso_error.html", provider=provider, message=FAILURE_MESSAGES[reason], reason=reason
    ), FAILURE_STATUS.get(reason, 400)


def _callback(provider: IdentityProvider) -> str:
    endpoint = "sso.cas_callback" if provider.kind is ProviderKind.CAS else "sso.callback"
    return url_for(endpoint, code=provider.code, _external=True)


@bp.get("/sso/<code>/login")
@allow(None)
@limiter.limit(_limit)
def start(code: str) -> Any:
    """Send the person to the provider; they come back to the callback."""
    provider = _provider(code)
    session[NEXT] = safe_next(request.args.get("next"), url_for("orgs.home"))
    if provider.kind is ProviderKind.CAS:
        return redirect(cas.login_url(provider, _callback(provider)))
    try:
        return oidc.authorization_redirect(current_app.config, provider, _callback(provider))
    except SignInFailure as failure:
        return _failure(provider, failure.reason)


@bp.get("/invitation/<token>/sso/<code>")
@allow(None)
@limiter.limit(_limit)
def accept_with(token: str, code: str) -> Any:
    """Accept an invitation by signing in with a provider: the identity it vouches for is
    linked to the invited account."""
    user = services.user_from_token(
        db.session, current_app.config["SECRET_KEY"], token, "invite", services.INVITE_MAX_AGE
    )
    if user is None:
        flash(_("This link is invalid, expired or already used."), "error")
        return redirect(url_for("auth.login"))
    _provider(code)
    session[INVITE] = token
    return redirect(url_for("sso.start", code=code))


def _signed_in(provider: IdentityProvider, claims: identities.Claims, id_token: str) -> Any:
    invited = None
    token = session.pop(INVITE, None)
    if token:
        invited = services.user_from_token(
            db.session, current_app.config["SECRET_KEY"], token, "invite", services.INVITE_MAX_AGE
        )
    try:
        user = identities.sign_in(db.session, provider, claims, invited, request.remote_addr)
    except SignInFailure as failure:
        return _failure(provider, failure.reason)
    target = safe_next(session.pop(NEXT, None), url_for("orgs.home"))
    begin_session(user)
    session[PROVIDER] = provider.code
    if id_token:
        session[ID_TOKEN] = id_token
    return redirect(target)


@bp.get("/sso/<code>/callback")
@allow(None)
@limiter.limit(_limit)
def callback(code: str) -> Any:
    """Where an OpenID Connect provider sends the person back (the redirect URI)."""
    provider = _provider(code)
    if provider.kind is not ProviderKind.OIDC:
        abort(404)
    if request.args.get("error"):
        # The provider's refusal (RFC 6749 §4.1.2.1) needs no call to it to be told.
        reason = "denied" if request.args["error"] == "access_denied" else "invalid"
        return _failure(provider, reason)
    try:
        claims, id_token = oidc.finish(current_app.config, provider)
    except SignInFailure as failure:
        return _failure(provider, failure.reason)
    return _signed_in(provider, claims, id_token)


@bp.get("/sso/<code>/cas")
@allow(None)
@limiter.limit(_limit)
def cas_callback(code: str) -> Any:
    """Where a CAS server sends the person back with a service ticket (the service)."""
    provider = _provider(code)
    if provider.kind is not ProviderKind.CAS:
        abort(404)
    try:
        claims = cas.validate(
            current_app.config, provider, _callback(provider), request.args.get("ticket", "")
        )
    except SignInFailure as failure:
        return _failure(provider, failure.reason)
    return _signed_in(provider, claims, "")


def provider_logout(back: str) -> str | None:
    """Where to send a person signing out so that the provider's session ends too (read
    before the session is cleared), or None when they signed in with a password."""
    code, id_token = session.pop(PROVIDER, None), session.pop(ID_TOKEN, None)
    provider = providers.provider_by_code(db.session, code) if code else None
    if provider is None:
        return None
    if provider.kind is ProviderKind.CAS:
        return cas.logout_url(provider, back)
    return oidc.logout_url(current_app.config, provider, id_token or "", back)


# -- administration ------------------------------------------------------------------------
@bp.get("/admin/sso")
@allow(Action.ADMIN)
def admin() -> str:
    return _admin_page(DomainForm())


def _admin_page(form: DomainForm, status: int = 200) -> Any:
    return render_template(
        "auth/sso_admin.html",
        providers=providers.list_providers(db.session, current_user),
        domains=providers.list_domains(db.session, current_user),
        form=form,
        kind_labels=KIND_LABELS,
        presets=providers.PRESETS,
    ), status


def _fields(form: ProviderForm) -> providers.ProviderFields:
    return providers.ProviderFields(
        code=form.code.data or "",
        kind=ProviderKind(form.kind.data),
        label=form.label.data or "",
        server_url=form.server_url.data or "",
        client_id=form.client_id.data or "",
        scopes=form.scopes.data or "openid email profile",
        acr_values=(form.acr_values.data or "").strip(),
        extra_params=(form.extra_params.data or "").strip(),
        claim_email=(form.claim_email.data or "").strip() or "email",
        claim_name=(form.claim_name.data or "").strip() or "name",
        emails_verified=bool(form.emails_verified.data),
        allow_jit=bool(form.allow_jit.data),
        cas_version=form.cas_version.data or "3",
        enabled=bool(form.enabled.data),
    )


def _rule_form() -> RuleForm:
    form = RuleForm()
    choices = scope_choices(db.session)
    form.scope.choices = [
        (f"{kind.value}:{ref_id}", f"{SCOPE_KIND_LABELS[kind]} — {label}")
        for kind in ScopeKind
        for ref_id, label in choices[kind]
    ]
    return form


def _provider_page(provider: IdentityProvider | None, form: ProviderForm, status: int = 200) -> Any:
    rule_form = _rule_form()
    return render_template(
        "auth/sso_provider.html",
        provider=provider,
        form=form,
        rule_form=rule_form,
        scope_labels=dict(rule_form.scope.choices),
        role_labels=ROLE_LABELS,
        callback=_callback(provider) if provider else None,
        used_by=providers.accounts_using(db.session, provider) if provider else 0,
    ), status


def _save(provider: IdentityProvider | None, form: ProviderForm) -> Any:
    try:
        version = sent_version(form, None)
        saved = providers.save_provider(db.session, current_user, provider, _fields(form), version)
    except ConflictError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return _provider_page(provider, form, 409)
    except DomainError as exc:
        db.session.rollback()
        getattr(form, exc.field or "code").errors = [str(exc.message)]
        return _provider_page(provider, form, 400)
    flash(_("Provider saved."), "success")
    return redirect(url_for("sso.edit_provider", provider_id=saved.id))


@bp.route("/admin/sso/new", methods=["GET", "POST"])
@allow(Action.ADMIN)
def new_provider() -> Any:
    form = ProviderForm()
    if request.method == "GET":
        preset = providers.PRESETS.get(request.args.get("preset", ""), {})
        form.process(data={"scopes": "openid email profile", "enabled": True, **preset})
        form.kind.data = ProviderKind(preset.get("kind", "oidc")).value
    elif form.validate_on_submit():
        return _save(None, form)
    return _provider_page(None, form)


@bp.route("/admin/sso/<int:provider_id>", methods=["GET", "POST"])
@allow(Action.ADMIN, on=(IdentityProvider, "provider_id"))
def edit_provider(provider_id: int) -> Any:
    provider = policy.load_or_404(
        current_user, IdentityProvider, provider_id, db.session, Action.ADMIN
    )
    form = ProviderForm(obj=provider if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data = provider.kind.value
    elif form.validate_on_submit():
        return _save(provider, form)
    return _provider_page(provider, form)


@bp.post("/admin/sso/<int:provider_id>/delete")
@allow(Action.ADMIN, on=(IdentityProvider, "provider_id"))
def delete_provider(provider_id: int) -> Any:
    provider = policy.load_or_404(
        current_user, IdentityProvider, provider_id, db.session, Action.ADMIN
    )
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("sso.edit_provider", provider_id=provider.id))
    try:
        providers.delete_provider(db.session, current_user, provider)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("sso.edit_provider", provider_id=provider_id))
    flash(_("Provider deleted."), "success")
    return redirect(url_for("sso.admin"))


@bp.post("/admin/sso/<int:provider_id>/deactivate")
@allow(Action.ADMIN, on=(IdentityProvider, "provider_id"))
def deactivate_provider(provider_id: int) -> Any:
    provider = policy.load_or_404(
        current_user, IdentityProvider, provider_id, db.session, Action.ADMIN
    )
    if FlaskForm().validate_on_submit():
        providers.deactivate_provider(db.session, current_user, provider)
        flash(
            _("Provider deactivated: it is off the sign-in page and refuses sign-ins."),
            "success",
        )
    return redirect(url_for("sso.edit_provider", provider_id=provider.id))


@bp.post("/admin/sso/<int:provider_id>/rules")
@allow(Action.ADMIN, on=(IdentityProvider, "provider_id"))
def add_rule(provider_id: int) -> Any:
    provider = policy.load_or_404(
        current_user, IdentityProvider, provider_id, db.session, Action.ADMIN
    )
    form = _rule_form()
    if form.validate_on_submit():
        kind, _sep, ref = (form.scope.data or "").partition(":")
        try:
            providers.add_rule(
                db.session,
                current_user,
                provider,
                claim=form.claim.data or "",
                value=form.value.data or "",
                role=Role(form.role.data),
                scope_kind=ScopeKind(kind),
                ref_id=int(ref),
            )
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            flash(_("Rule added."), "success")
    else:
        flash(_("Give the claim, the value, the role and the scope."), "error")
    return redirect(url_for("sso.edit_provider", provider_id=provider.id))


@bp.post("/admin/sso/rules/<int:rule_id>/delete")
@allow(Action.ADMIN, on=(SsoRule, "rule_id"))
def delete_rule(rule_id: int) -> Any:
    rule = policy.load_or_404(current_user, SsoRule, rule_id, db.session, Action.ADMIN)
    back = url_for("sso.edit_provider", provider_id=rule.provider_id)
    if FlaskForm().validate_on_submit():
        providers.delete_rule(db.session, current_user, rule)
        flash(_("Rule deleted."), "success")
    return redirect(back)


@bp.post("/admin/sso/domains")
@allow(Action.ADMIN)
def add_domain() -> Any:
    form = DomainForm()
    if form.validate_on_submit():
        try:
            providers.require_sso(
                db.session, current_user, form.domain.data or "", form.note.data or ""
            )
        except DomainError as exc:
            db.session.rollback()
            form.domain.errors = [str(exc.message)]
            return _admin_page(form, 400)
        flash(_("Password sign-in is now refused to this domain."), "success")
        return redirect(url_for("sso.admin"))
    return _admin_page(form, 400)


@bp.post("/admin/sso/domains/<int:domain_id>/delete")
@allow(Action.ADMIN, on=(SsoDomain, "domain_id"))
def delete_domain(domain_id: int) -> Any:
    row = policy.load_or_404(current_user, SsoDomain, domain_id, db.session, Action.ADMIN)
    if FlaskForm().validate_on_submit():
        providers.release_domain(db.session, current_user, row)
        flash(_("This domain may sign in with passwords again."), "success")
    return redirect(url_for("sso.admin"))
