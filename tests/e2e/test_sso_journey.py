"""An IEN accepts her invitation by signing in with ProConnect (a real OpenID Connect
provider on loopback), signs out of Socle and of the provider, signs in again with the
button; a stranger is refused, a collectivité's agent gets an account by a rule, and an
altered answer is refused. Every Socle page is checked with axe-core."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect
from sqlalchemy import select

from inventory.auth import providers, services
from inventory.auth.models import User
from inventory.auth.sso_models import ProviderKind
from inventory.core.policy import Role, ScopeKind
from tests.e2e.axe import check_a11y
from tests.factories import ADMIN


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True, "SSO_CLIENT_SECRETS": {"proconnect": "s3cret"}}


def _authorize_as(page: Page, sub: str) -> None:
    """At the provider's own page: authenticate as ``sub``."""
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def test_sign_in_through_proconnect(
    page: Page, url, translate, app, db_session, oidc_issuer, registry
):
    provider = providers.save_provider(
        db_session,
        ADMIN,
        None,
        providers.ProviderFields(
            code="proconnect",
            kind=ProviderKind.OIDC,
            label="ProConnect",
            server_url=oidc_issuer,
            client_id="socle",
            claim_name="usual_name",
            allow_jit=True,
        ),
    )
    fresnes = registry["collectivites"]["Fresnes"]
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
    circo = next(iter(registry["circonscriptions"].values()))
    ien = services.invite_user(
        db_session,
        app.config,
        ADMIN,
        lambda token: token,
        email="ines.martin@ac-creteil.fr",
        name="Inès Martin",
        role=Role.AUDITEUR,
        scopes=[services.ScopeChoice(ScopeKind.CIRCONSCRIPTION, circo)],
    )
    token = services.make_token(app.config["SECRET_KEY"], ien, "invite")
    for sub, claims in {
        "ien-42": {"email": "i.martin@agents.gouv.fr", "usual_name": "Martin"},
        "stranger": {"email": "someone@example.org"},
        "dsi-fresnes": {"email": "dsi@fresnes.fr", "usual_name": "Roy", "siret": "21940034800015"},
    }.items():
        assert requests.put(f"{oidc_issuer}/users/{sub}", json=claims, timeout=5).ok

    button = translate("Sign in with %(provider)s", provider="ProConnect")
    # Her invitation: she accepts it with ProConnect rather than a password.
    page.goto(f"/invitation/{token}")
    check_a11y(page)
    page.get_by_role("link", name=button).click()
    _authorize_as(page, "ien-42")
    expect(page).to_have_url(url("/"))
    check_a11y(page)

    # Signing out ends the provider's session too, then comes back to Socle's sign-in.
    page.get_by_role("button", name=translate("Sign out")).click()
    expect(page.get_by_role("button", name="End session")).to_be_visible()
    assert page.url.startswith(f"{oidc_issuer}/oauth2/end_session")
    page.get_by_role("button", name="End session").click()
    expect(page).to_have_url(url("/login"))
    check_a11y(page)

    # The second time, the button is enough.
    page.get_by_role("link", name=button).click()
    _authorize_as(page, "ien-42")
    expect(page).to_have_url(url("/"))
    page.get_by_role("button", name=translate("Sign out")).click()
    page.get_by_role("button", name="End session").click()

    # A stranger is refused, on a page that says why.
    page.get_by_role("link", name=button).click()
    _authorize_as(page, "stranger")
    expect(page.locator("#sso-failure")).to_have_attribute("data-reason", "unknown")
    check_a11y(page)

    # An altered answer is refused.
    page.goto("/sso/proconnect/callback?code=forged&state=forged")
    expect(page.locator("#sso-failure")).to_have_attribute("data-reason", "state")

    # The town's IT manager enters by the rule on her siret.
    page.goto("/login")
    page.get_by_role("link", name=button).click()
    _authorize_as(page, "dsi-fresnes")
    expect(page).to_have_url(url("/"))
    db_session.expire_all()
    opened = db_session.scalar(select(User).filter_by(email="dsi@fresnes.fr"))
    assert opened.role is Role.TECHNICIEN and opened.last_login_via == "ProConnect"
