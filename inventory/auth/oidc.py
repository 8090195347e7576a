"""OpenID Connect sign-in through Authlib's Flask client.

A client is made for each sign-in from the provider's record, so that a change an
administrator saves applies at once: Authlib reads the discovery document, sends the
authorization code request with PKCE (S256), a state and a nonce kept in the session, and
on the way back checks the state, exchanges the code, and validates the ID token (its
signature with the provider's keys, issuer, audience, expiry, nonce, and ``acr`` when the
provider's record asks for one). The userinfo endpoint completes the claims.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from requests import RequestException

from inventory.auth.identities import Claims, SignInFailure, claims_from
from inventory.auth.providers import client_secret
from inventory.auth.sso_models import IdentityProvider

# Seconds of clock difference tolerated with the provider when checking the ID token.
LEEWAY = 60


def _client(config: Mapping[str, Any], provider: IdentityProvider) -> FlaskOAuth2App:
    name = f"sso-{provider.code}"
    return FlaskOAuth2App(
        FlaskIntegration(name),
        name,
        client_id=provider.client_id,
        client_secret=client_secret(config, provider),
        server_metadata_url=provider.server_url + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": provider.scopes,
            "code_challenge_method": "S256",
            "timeout": config.get("SSO_TIMEOUT", 10),
        },
    )


def _extra_params(provider: IdentityProvider) -> dict[str, str]:
    params = dict(pair.split("=", 1) for pair in provider.extra_params.split())
    if provider.acr_values:
        params["acr_values"] = provider.acr_values
    return params


def authorization_redirect(
    config: Mapping[str, Any], provider: IdentityProvider, callback: str
) -> Any:
    """The redirection to the provider's authorization endpoint (state, nonce and PKCE
    verifier saved in the session)."""
    try:
        return _client(config, provider).authorize_redirect(callback, **_extra_params(provider))
    except (RequestException, ValueError) as exc:
        raise SignInFailure("unreachable") from exc


def finish(config: Mapping[str, Any], provider: IdentityProvider) -> tuple[Claims, str]:
    """The claims of the person the provider sent back, and their ID token (kept for the
    logout's ``id_token_hint``); :class:`SignInFailure` says why when it went wrong."""
    client = _client(config, provider)
    try:
        metadata = client.load_server_metadata()
        options: dict[str, Any] = {"iss": {"essential": True, "values": [metadata["issuer"]]}}
        if provider.acr_values:
            options["acr"] = {"essential": True, "values": provider.acr_values.split()}
        token = client.authorize_access_token(claims_options=options, leeway=LEEWAY)
        if "userinfo" not in token:
            raise SignInFailure("invalid")  # no ID token, or no nonce: not OpenID Connect
        claims = dict(token["userinfo"])
        if metadata.get("userinfo_endpoint"):
            info = client.userinfo(token=token)
            if info.get("sub") != claims.get("sub"):
                raise SignInFailure("invalid")
            claims.update(info)
    except MismatchingStateError as exc:
        raise SignInFailure("state") from exc
    except OAuthError as exc:
        raise SignInFailure("denied" if exc.error == "access_denied" else "invalid") from exc
    except ExpiredTokenError as exc:
        raise SignInFailure("expired") from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        acr = getattr(exc, "claim", "") == "acr"
        raise SignInFailure("acr" if acr else "invalid") from exc
    except JoseError as exc:
        raise SignInFailure("invalid") from exc
    except (RequestException, KeyError, ValueError) as exc:
        raise SignInFailure("unreachable") from exc
    return claims_from(provider, str(claims.get("sub") or ""), claims), str(token["id_token"])


def logout_url(
    config: Mapping[str, Any], provider: IdentityProvider, id_token: str, back: str
) -> str | None:
    """The provider's end-session address (RP-initiated logout), or None if it has none."""
    try:
        metadata = _client(config, provider).load_server_metadata()
    except (RequestException, ValueError):
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    query = {"id_token_hint": id_token, "post_logout_redirect_uri": back}
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"
