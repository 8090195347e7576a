"""Signing in through identity providers: a real OpenID Connect provider on loopback
(oidc-provider-mock), and CAS answered with the protocol's recorded responses."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from sqlalchemy import select

from inventory.auth import providers, services
from inventory.auth.models import User
from inventory.auth.sso_models import Identity, IdentityProvider, SsoDomain, SsoRule
from inventory.core.audit import AuditRecord
from inventory.core.policy import Role, ScopeKind
from tests.auth.builders import (
    at_provider,
    cas_provider,
    oidc_provider,
    person,
    provider_of,
    sign_in,
    to_provider,
)
from tests.factories import ADMIN, fresh, login


@pytest.fixture
def app_config():
    # The providers' client secrets, from the instance configuration as in production.
    return {"SSO_CLIENT_SECRETS": {"mock": "s3cret", "expiring": "s3cret", "strict": "s3cret"}}


def _reason(response) -> str:
    html = response.get_data(as_text=True)
    assert 'id="sso-failure"' in html, html[:500]
    return html.split('data-reason="', 1)[1].split('"', 1)[0]


def _provider_logout(response) -> str:
    """Where the signed-out page sends the browser (the provider's logout)."""
    html = response.get_data(as_text=True)
    found = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', html)
    assert found, html[:800]
    link = re.search(r'id="provider-logout" href="([^"]+)"', html)
    assert link and link.group(1) == found.group(1)
    return unescape(found.group(1))


def _invite(app, db_session, email, role=Role.AUDITEUR, scopes=()):
    user = services.invite_user(
        db_session,
        app.config,
        ADMIN,
        lambda token: f"http://localhost/invitation/{token}",
        email=email,
        name="Inès Martin",
        role=role,
        scopes=scopes,
    )
    return user, services.make_token(app.config["SECRET_KEY"], user, "invite")


def test_first_sign_in_through_an_invitation_then_a_second_one_and_logout(
    app, client, db_session, oidc_issuer, registry
):
    oidc_provider(db_session, oidc_issuer)
    circo = next(iter(registry["circonscriptions"].values()))
    user, token = _invite(
        app,
        db_session,
        "ines.martin@ac-creteil.fr",
        scopes=[services.ScopeChoice(ScopeKind.CIRCONSCRIPTION, circo)],
    )
    # The provider knows her by another address: the invitation, not the email, links.
    person(oidc_issuer, "ien-42", email="i.martin@agents.gouv.fr", name="Inès Martin")

    page = client.get(f"/invitation/{token}").get_data(as_text=True)
    assert f"/invitation/{token}/sso/mock" in page
    start = client.get(f"/invitation/{token}/sso/mock")
    assert start.location == "/sso/mock/login"
    back = at_provider(to_provider(client, start.location), sub="ien-42")
    assert back.startswith("http://localhost/sso/mock/callback?")
    done = client.get(back)
    assert done.status_code == 302 and done.location == "/"
    assert client.get("/").status_code == 200

    identity = db_session.scalar(select(Identity).filter_by(subject="ien-42"))
    assert identity.user_id == user.id
    account = fresh(db_session, User, user.id)
    assert account.password_hash is None  # an SSO-only account keeps no password
    assert account.last_login_via == "ProConnect test" and account.last_login_at is not None
    linked = db_session.scalar(
        select(AuditRecord).filter_by(object_type="identities", object_id=identity.id)
    )
    assert linked.actor_label == "ProConnect test: i.martin@agents.gouv.fr"
    # The invitation is used: its link is dead.
    assert client.get(f"/invitation/{token}/sso/mock").location == "/login"

    # Signing out ends the provider's session too (RP-initiated logout).
    out = client.post("/logout")
    assert out.status_code == 200
    location = _provider_logout(out)
    end = urlsplit(location)
    assert location.startswith(f"{oidc_issuer}/oauth2/end_session?")
    query = parse_qs(end.query)
    assert query["post_logout_redirect_uri"] == ["http://localhost/login"]
    assert query["id_token_hint"][0].count(".") == 2
    assert client.get("/").status_code == 302

    # A second sign-in, without the invitation: the identity is known.
    again = app.test_client()
    assert sign_in(again, "ien-42").location == "/"
    assert again.get("/").status_code == 200
    assert db_session.scalar(select(Identity).filter_by(user_id=user.id)) is not None


def test_an_unknown_person_is_refused_and_an_unverified_email_links_nothing(
    app, client, db_session, oidc_issuer, make_user
):
    oidc_provider(db_session, oidc_issuer)
    email = make_user("technicien", [("collectivite", 1)], email="paul@fresnes.fr")
    person(oidc_issuer, "nobody-1", email="stranger@example.org")
    refused = sign_in(client, "nobody-1")
    assert refused.status_code == 403 and _reason(refused) == "unknown"
    assert "pas de compte pour vous" in refused.get_data(as_text=True)
    # The provider gives the address of an account, but does not say it verified it.
    person(oidc_issuer, "paul-unverified", email=email)
    assert _reason(sign_in(client, "paul-unverified")) == "unknown"
    assert db_session.scalar(select(Identity)) is None
    assert client.get("/").status_code == 302  # nobody signed in
    # Verified, it links the identity to the account.
    person(oidc_issuer, "paul-verified", email=email, email_verified=True)
    assert sign_in(client, "paul-verified").location == "/"
    identity = db_session.scalar(select(Identity).filter_by(subject="paul-verified"))
    assert identity.user.email == email


def test_just_in_time_accounts_come_only_from_the_rules_of_a_provider_that_allows_them(
    app, client, db_session, oidc_issuer, registry
):
    fresnes = registry["collectivites"]["Fresnes"]
    provider_id = oidc_provider(db_session, oidc_issuer, allow_jit=True, emails_verified=True)
    provider = provider_of(db_session, provider_id)
    providers.add_rule(
        db_session,
        ADMIN,
        provider,
        claim="siret",
        value="21940034800015",
        role=Role.TECHNICIEN,
        scope_kind=ScopeKind.COLLECTIVITE,
        ref_id=fresnes,
    )
    person(
        oidc_issuer,
        "agent-7",
        email="dsi@fresnes.fr",
        usual_name="Camille Roy",
        siret="21940034800015",
    )
    person(oidc_issuer, "agent-8", email="other@ville.fr", siret="99999999900000")
    assert _reason(sign_in(client, "agent-8")) == "unknown"  # no rule meets them

    assert sign_in(client, "agent-7").location == "/"
    user = db_session.scalar(select(User).filter_by(email="dsi@fresnes.fr"))
    assert user.role is Role.TECHNICIEN and user.password_hash is None
    assert [(s.kind, s.ref_id) for s in user.scopes] == [(ScopeKind.COLLECTIVITE, fresnes)]
    opened = db_session.scalar(
        select(AuditRecord).filter_by(object_type="users", object_id=user.id, action="create")
    )
    assert opened.actor_label == "ProConnect test: dsi@fresnes.fr"
    # Her scope is the rule's: another collectivité's school is not hers.
    assert client.get("/").status_code == 200


def test_every_failure_has_its_page_and_signs_nobody_in(
    app, client, db_session, oidc_issuer, expiring_issuer, make_user
):
    oidc_provider(db_session, oidc_issuer, emails_verified=True)
    oidc_provider(
        db_session, expiring_issuer, code="expiring", label="Entra ID", emails_verified=True
    )
    oidc_provider(db_session, oidc_issuer, code="strict", label="Strict", acr_values="eidas2")
    email = make_user("auditeur", [("academie", 1)])
    person(oidc_issuer, "known", email=email)
    person(expiring_issuer, "known", email=email)

    # Consent refused at the provider.
    denied = client.get(at_provider(to_provider(client, "/sso/mock/login"), action="deny"))
    assert denied.status_code == 403 and _reason(denied) == "denied"
    # A callback whose state was altered (or belongs to another browser's sign-in).
    back = urlsplit(at_provider(to_provider(client, "/sso/mock/login"), sub="known"))
    query = parse_qs(back.query)
    query["state"] = ["forged-" + query["state"][0]]
    tampered = client.get(f"{back.path}?{urlencode(query, doseq=True)}")
    assert tampered.status_code == 400 and _reason(tampered) == "state"
    # The same answer replayed in a browser that started nothing.
    replayed = app.test_client().get(f"{back.path}?{back.query}")
    assert _reason(replayed) == "state"
    # An ID token expired when it arrives.
    expired = sign_in(client, "known", "/sso/expiring/login")
    assert expired.status_code == 400 and _reason(expired) == "expired"
    # An authentication level below the one the provider's record requires.
    assert _reason(sign_in(client, "known", "/sso/strict/login")) == "acr"
    # An inactive account.
    user = db_session.scalar(select(User).filter_by(email=email))
    services.deactivate_user(db_session, ADMIN, user)
    assert _reason(sign_in(client, "known")) == "inactive"
    assert client.get("/").status_code == 302
    # An unknown or hidden provider.
    assert client.get("/sso/nope/login").status_code == 404


def test_next_survives_the_provider_only_when_it_is_local(
    client, db_session, oidc_issuer, make_user
):
    oidc_provider(db_session, oidc_issuer, emails_verified=True)
    email = make_user("admin")
    person(oidc_issuer, "admin-sub", email=email)
    assert sign_in(client, "admin-sub", "/sso/mock/login?next=/ecoles").location == "/ecoles"
    other = client.application.test_client()
    assert sign_in(other, "admin-sub", "/sso/mock/login?next=//evil.example/").location == "/"


def test_a_domain_that_requires_sso_signs_in_with_no_password(app, client, db_session, make_user):
    email = make_user("auditeur", [("academie", 1)], email="erun@ac-creteil.fr")
    assert login(client, email).status_code == 302
    client.post("/logout")
    providers.require_sso(db_session, ADMIN, "AC-Creteil.fr", "SSO de l'académie")
    db_session.expire_all()
    assert db_session.scalar(select(User).filter_by(email=email)).password_hash is None
    refused = login(client, email)
    assert refused.status_code == 200
    assert "pas par un mot de passe" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302
    # An invitation of the domain is accepted through a provider only: no password chosen.
    _, token = _invite(
        app, db_session, "ien@ac-creteil.fr", scopes=[services.ScopeChoice(ScopeKind.ACADEMIE, 1)]
    )
    page = client.get(f"/invitation/{token}").get_data(as_text=True)
    assert 'name="password"' not in page and "pas par un mot de passe" in page
    typed = {"password": "Un-long-mot-de-passe-42", "confirm": "Un-long-mot-de-passe-42"}
    assert client.post(f"/invitation/{token}", data=typed).status_code == 200
    db_session.expire_all()
    assert (
        db_session.scalar(select(User).filter_by(email="ien@ac-creteil.fr")).password_hash is None
    )
    # Another domain still signs in with its password.
    other = make_user("admin", email="chef@example.org")
    assert login(client, other).status_code == 302


def test_cas_sign_in_with_a_service_ticket_and_logout(
    app, client, db_session, cas_server, make_user
):
    cas_provider(
        db_session,
        cas_server.url,
        emails_verified=True,
        claim_email="mail",
        claim_name="displayName",
    )
    email = make_user("formateur", [("circonscription", 1)], email="jean.dupont@ac-creteil.fr")
    start = client.get("/sso/cas/login")
    assert start.location == (
        f"{cas_server.url}/login?service=http%3A%2F%2Flocalhost%2Fsso%2Fcas%2Fcas"
    )
    back = requests.get(start.location, allow_redirects=False, timeout=10).headers["location"]
    done = client.get(back)
    assert done.status_code == 302 and done.location == "/"
    assert cas_server.validations[-1]["path"] == "/cas/p3/serviceValidate"
    assert cas_server.validations[-1]["service"] == "http://localhost/sso/cas/cas"
    identity = db_session.scalar(select(Identity).filter_by(subject="jdupont"))
    assert identity.user.email == email and identity.user.last_login_via == "Académie de Créteil"
    # The ticket was for one use: replayed, the CAS server refuses it.
    replayed = app.test_client().get(back)
    assert replayed.status_code == 400 and _reason(replayed) == "expired"
    out = client.post("/logout")
    assert (
        _provider_logout(out) == f"{cas_server.url}/logout?service=http%3A%2F%2Flocalhost%2Flogin"
    )
    # No ticket: the person came back without authenticating.
    assert _reason(client.get("/sso/cas/cas")) == "denied"


def test_administrators_configure_providers_rules_and_domains_without_code(
    app, client, db_session, make_user, registry
):
    assert login(client, make_user("admin")).status_code == 302
    preset = client.get("/admin/sso/new?preset=proconnect").get_data(as_text=True)
    assert 'value="https://auth.agentconnect.gouv.fr/api/v2"' in preset and "eidas1" in preset
    form = {
        "label": "ProConnect",
        "code": "ProConnect",
        "kind": "oidc",
        "server_url": "https://auth.agentconnect.gouv.fr/api/v2/",
        "client_id": "socle-creteil",
        "scopes": "openid email usual_name siret",
        "acr_values": "eidas1",
        "extra_params": "idp_id=71144ab3-ee1a-4401-b7b3-79b44f7daeeb",
        "claim_email": "email",
        "claim_name": "usual_name",
        "cas_version": "3",
        "emails_verified": "y",
        "enabled": "y",
    }
    bad = client.post("/admin/sso/new", data={**form, "extra_params": "idp_id"})
    assert bad.status_code == 400 and 'value="ProConnect"' in bad.get_data(as_text=True)
    saved = client.post("/admin/sso/new", data=form)
    assert saved.status_code == 302
    page = client.get(saved.location).get_data(as_text=True)
    assert "http://localhost/sso/proconnect/callback" in page  # the redirect URI to register
    provider = db_session.scalar(select(IdentityProvider).filter_by(code="proconnect"))
    assert provider.server_url == "https://auth.agentconnect.gouv.fr/api/v2"
    assert not provider.allow_jit  # never by default
    # A form loaded before someone else's save is refused, and keeps what was typed.
    stale = {**form, "code": "proconnect", "label": "ProConnect (agents)", "version": "1"}
    assert client.post(saved.location, data={**stale, "version": "1"}).status_code == 302
    conflict = client.post(saved.location, data={**stale, "label": "Mine", "version": "1"})
    assert conflict.status_code == 409 and 'value="Mine"' in conflict.get_data(as_text=True)

    fresnes = registry["collectivites"]["Fresnes"]
    rule = {"claim": "siret", "value": "21940034800015", "role": "technicien"}
    added = client.post(
        f"/admin/sso/{provider.id}/rules", data={**rule, "scope": f"collectivite:{fresnes}"}
    )
    assert added.status_code == 302
    wrong = client.post(
        f"/admin/sso/{provider.id}/rules", data={**rule, "scope": "academie:1", "value": "x"}
    )
    assert wrong.status_code == 302
    db_session.expire_all()
    rules = db_session.scalars(select(SsoRule)).all()
    assert [(r.claim, r.value, r.ref_id) for r in rules] == [("siret", "21940034800015", fresnes)]
    assert "Fresnes" in client.get(saved.location).get_data(as_text=True)
    assert client.post(f"/admin/sso/rules/{rules[0].id}/delete").status_code == 302
    assert db_session.scalar(select(SsoRule)) is None

    assert client.post("/admin/sso/domains", data={"domain": "not a domain"}).status_code == 400
    assert client.post("/admin/sso/domains", data={"domain": "ac-creteil.fr"}).status_code == 302
    listing = client.get("/admin/sso").get_data(as_text=True)
    assert "ac-creteil.fr" in listing and "ProConnect (agents)" in listing
    domain = db_session.scalar(select(SsoDomain))
    assert client.post(f"/admin/sso/domains/{domain.id}/delete").status_code == 302
    assert db_session.scalar(select(SsoDomain)) is None
    # Each change is in the change log.
    logged = {r.object_type for r in db_session.scalars(select(AuditRecord))}
    assert {"identity_providers", "sso_rules", "sso_domains"} <= logged


def test_cas_sign_in_against_a_real_cas_server(app, client, db_session, real_cas, make_user):
    cas_provider(
        db_session, real_cas.url, emails_verified=True, claim_email="mail", claim_name="displayName"
    )
    email = make_user("auditeur", [("academie", 1)], email="jean.dupont@ac-creteil.fr")
    back = real_cas.log_in(client.get("/sso/cas/login").location)
    assert back.startswith("http://localhost/sso/cas/cas?ticket=ST-")
    assert client.get(back).location == "/"
    identity = db_session.scalar(select(Identity).filter_by(subject="jdupont"))
    assert identity.user.email == email
    # A service ticket is for one use.
    assert _reason(app.test_client().get(back)) == "expired"
