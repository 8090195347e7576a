"""Signing in through identity providers: a real OpenID Connect provider on loopback
(oidc-provider-mock), and CAS answered with the protocol's recorded responses."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select

from inventory.auth import providers, services
from inventory.auth.models import User
from inventory.auth.sso_models import Identity
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
    return {"SSO_CLIENT_SECRETS": {"mock": "s3cret", "expiring": "s3cret"}}


def _reason(response) -> str:
    html = response.get_data(as_text=True)
    assert 'id="sso-failure"' in html, html[:500]
    return html.split('data-reason="', 1)[1].split('"', 1)[0]


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
        app, db_session, "ines.martin@ac-creteil.fr", scopes=[services.ScopeChoice(ScopeKind.CIRCONSCRIPTION, circo)]
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
    end = urlsplit(out.location)
    assert out.location.startswith(f"{oidc_issuer}/oauth2/end_session?")
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
    person(oidc_issuer, "agent-7", email="dsi@fresnes.fr", usual_name="Camille Roy", siret="21940034800015")
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
