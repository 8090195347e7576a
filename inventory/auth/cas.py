"""CAS 2 and 3 sign-in: the protocol by hand over ``requests`` (the python-cas client is
barely maintained), a few lines: the login redirection with the ``service`` address, the
service ticket validated by ``serviceValidate`` (CAS 2) or ``p3/serviceValidate`` (CAS 3,
with attributes), and the logout redirection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import requests

from inventory.auth.identities import Claims, SignInFailure, claims_from
from inventory.auth.sso_models import IdentityProvider

NS = {"cas": "http://www.yale.edu/tp/cas"}


def login_url(provider: IdentityProvider, service: str) -> str:
    return f"{provider.server_url}/login?{urlencode({'service': service})}"


def logout_url(provider: IdentityProvider, back: str) -> str:
    return f"{provider.server_url}/logout?{urlencode({'service': back})}"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def parse_response(provider: IdentityProvider, text: str) -> Claims:
    """The person a ``serviceResponse`` document names, with its attributes (a repeated
    attribute becomes a list), or :class:`SignInFailure`."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise SignInFailure("invalid") from exc
    success = root.find("cas:authenticationSuccess", NS)
    if success is None:
        failure = root.find("cas:authenticationFailure", NS)
        code = failure.get("code", "") if failure is not None else ""
        raise SignInFailure("expired" if code == "INVALID_TICKET" else "invalid")
    user = (success.findtext("cas:user", default="", namespaces=NS) or "").strip()
    if not user:
        raise SignInFailure("invalid")
    values: dict[str, Any] = {}
    attributes = success.find("cas:attributes", NS)
    for element in attributes if attributes is not None else ():
        name, value = _local(element.tag), (element.text or "").strip()
        if name in values:
            kept = values[name]
            values[name] = [*kept, value] if isinstance(kept, list) else [kept, value]
        else:
            values[name] = value
    return claims_from(provider, user, values)


def validate(
    config: Mapping[str, Any], provider: IdentityProvider, service: str, ticket: str
) -> Claims:
    """Ask the CAS server whether ``ticket`` was issued for ``service``, once."""
    if not ticket:
        raise SignInFailure("denied")
    path = "/p3/serviceValidate" if provider.cas_version == "3" else "/serviceValidate"
    try:
        answer = requests.get(
            provider.server_url + path,
            params={"service": service, "ticket": ticket},
            timeout=config.get("SSO_TIMEOUT", 10),
        )
        answer.raise_for_status()
    except requests.RequestException as exc:
        raise SignInFailure("unreachable") from exc
    return parse_response(provider, answer.text)
