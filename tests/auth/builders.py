"""Sign-in providers of the auth tests, and a person's way through a real provider."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from inventory.auth import providers
from inventory.auth.sso_models import IdentityProvider, ProviderKind
from tests.factories import ADMIN


def oidc_provider(db_session: Session, issuer: str, code: str = "mock", **fields: Any) -> int:
    """An OpenID Connect provider record for ``issuer``, saved by the administrator's
    service; its id."""
    saved = providers.save_provider(
        db_session,
        ADMIN,
        None,
        providers.ProviderFields(
            code=code,
            kind=ProviderKind.OIDC,
            label=fields.pop("label", "ProConnect test"),
            server_url=issuer,
            client_id="socle-test",
            **fields,
        ),
    )
    return saved.id


def cas_provider(db_session: Session, url: str, code: str = "cas", **fields: Any) -> int:
    saved = providers.save_provider(
        db_session,
        ADMIN,
        None,
        providers.ProviderFields(
            code=code, kind=ProviderKind.CAS, label="Académie de Créteil", server_url=url, **fields
        ),
    )
    return saved.id


def person(issuer: str, sub: str, **claims: Any) -> None:
    """What the provider will say of ``sub`` (its claims)."""
    answer = requests.put(f"{issuer}/users/{quote(sub)}", json=claims, timeout=10)
    assert answer.status_code == 204


def to_provider(client: FlaskClient, start: str) -> str:
    """Follow Socle's sign-in button: the provider's authorization address."""
    response = client.get(start)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location


def at_provider(authorize: str, **form: str) -> str:
    """Answer the provider's form (``sub=…`` to authenticate, ``action=deny`` to refuse):
    the address it sends the browser back to (Socle's callback)."""
    answer = requests.post(authorize, data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def sign_in(client: FlaskClient, sub: str, start: str = "/sso/mock/login") -> Any:
    """The whole way: Socle → the provider (as ``sub``) → Socle's callback's answer."""
    return client.get(at_provider(to_provider(client, start), sub=sub))


def provider_of(db_session: Session, provider_id: int) -> IdentityProvider:
    db_session.expire_all()
    provider = db_session.get(IdentityProvider, provider_id)
    assert provider is not None
    return provider
