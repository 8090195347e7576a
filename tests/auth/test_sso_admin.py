"""The administrator's care of sign-in providers once people use them: scopes read as
words, a provider removed or deactivated, and the provider's refusal told without it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inventory.auth import providers
from inventory.auth.sso_models import Identity, IdentityProvider, SsoRule
from inventory.core.audit import AuditRecord
from inventory.core.policy import Role, ScopeKind
from tests.auth.builders import cas_provider, oidc_provider, person, provider_of, sign_in
from tests.factories import ADMIN, login


@pytest.fixture
def app_config():
    return {"SSO_CLIENT_SECRETS": {"mock": "s3cret", "gone": "s3cret"}}


def _reason(response) -> str:
    html = response.get_data(as_text=True)
    assert 'id="sso-failure"' in html, html[:500]
    return html.split('data-reason="', 1)[1].split('"', 1)[0]


def test_rules_and_the_change_log_name_the_kind_of_scope_in_words(
    client, db_session, make_user, registry
):
    assert login(client, make_user("admin")).status_code == 302
    provider_id = cas_provider(db_session, "https://cas.example.org/cas")
    fresnes = registry["collectivites"]["Fresnes"]
    page = client.get(f"/admin/sso/{provider_id}").get_data(as_text=True)
    assert f'value="collectivite:{fresnes}">Collectivité — Fresnes (' in page
    assert "collectivite —" not in page
    added = client.post(
        f"/admin/sso/{provider_id}/rules",
        data={
            "claim": "siret",
            "value": "21940034800015",
            "role": "technicien",
            "scope": f"collectivite:{fresnes}",
        },
    )
    assert added.status_code == 302
    page = client.get(f"/admin/sso/{provider_id}").get_data(as_text=True)
    assert "<td>Collectivité — Fresnes (" in page
    journal = client.get("/journal?type=sso_rules").get_data(as_text=True)
    assert "→ Collectivité</li>" in journal and "→ collectivite<" not in journal


def test_an_unused_provider_is_deleted_and_a_used_one_only_deactivated(
    client, db_session, oidc_issuer, make_user, registry
):
    used_id = oidc_provider(db_session, oidc_issuer, emails_verified=True)
    gone_id = oidc_provider(db_session, oidc_issuer, code="gone", label="Entra ID")
    providers.add_rule(
        db_session,
        ADMIN,
        provider_of(db_session, gone_id),
        claim=providers.EMAIL_DOMAIN,
        value="fresnes.fr",
        role=Role.TECHNICIEN,
        scope_kind=ScopeKind.COLLECTIVITE,
        ref_id=registry["collectivites"]["Fresnes"],
    )
    email = make_user("auditeur", [("academie", 1)])
    person(oidc_issuer, "agent-7", email=email)
    assert sign_in(client, "agent-7").location == "/"  # the provider links her account
    client.post("/logout")

    assert login(client, make_user("admin")).status_code == 302
    users = client.get("/admin/users").get_data(as_text=True)
    row = users.split(f"<td>{email}</td>", 1)[1].split("</tr>", 1)[0]
    assert '<span class="muted">(ProConnect test)</span>' in row  # her last sign-in's way
    page = client.get(f"/admin/sso/{used_id}").get_data(as_text=True)
    assert 'id="provider-used"' in page and f"/admin/sso/{used_id}/delete" not in page
    refused = client.post(f"/admin/sso/{used_id}/delete", follow_redirects=True)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "ne peut pas être supprimé" in html
    assert provider_of(db_session, used_id).enabled
    assert db_session.scalar(select(Identity)) is not None

    assert client.post(f"/admin/sso/{used_id}/deactivate").status_code == 302
    provider = provider_of(db_session, used_id)
    assert not provider.enabled
    assert client.get("/sso/mock/login").status_code == 404  # it refuses sign-ins
    assert "ProConnect test" not in client.get("/login").get_data(as_text=True)

    page = client.get(f"/admin/sso/{gone_id}").get_data(as_text=True)
    assert f"/admin/sso/{gone_id}/delete" in page
    deleted = client.post(f"/admin/sso/{gone_id}/delete")
    assert deleted.status_code == 302 and deleted.location == "/admin/sso"
    db_session.expire_all()
    assert db_session.get(IdentityProvider, gone_id) is None
    assert db_session.scalar(select(SsoRule)) is None  # its rules went with it
    logged = {
        (r.object_type, r.action)
        for r in db_session.scalars(select(AuditRecord).where(AuditRecord.action == "delete"))
    }
    assert {("identity_providers", "delete"), ("sso_rules", "delete")} <= logged
    changed = db_session.scalars(
        select(AuditRecord).filter_by(object_type="identity_providers", object_id=used_id)
    ).all()
    assert any("enabled" in r.changes for r in changed)


def test_the_providers_refusal_shows_the_failure_page_without_asking_it(client, db_session):
    # Nothing listens there: the page comes from the callback's parameters alone.
    oidc_provider(db_session, "http://127.0.0.1:9")
    denied = client.get("/sso/mock/callback?error=access_denied&state=x")
    assert denied.status_code == 403 and _reason(denied) == "denied"
    broken = client.get("/sso/mock/callback?error=server_error")
    assert broken.status_code == 400 and _reason(broken) == "invalid"
    assert client.get("/").status_code == 302  # nobody signed in
