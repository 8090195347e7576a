"""Signed values as Flask and Flask-WTF make them (the session cookie, CSRF tokens), made
by serializers built once.

itsdangerous builds a signer, and derives its key again, for every value it signs, then
tries to compress even a short value that never shrinks. On the public scan page, the most
requested page, that was a fifth of the work: every new visitor gets a session and a CSRF
token. The values made here are the same format, read back by the same code (Flask's
session loading, Flask-WTF's ``validate_csrf``); the tests check both.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app, g, session
from itsdangerous import Serializer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

# Values shorter than this are signed as they are: zlib adds more than it saves to them.
_SHORT = 128


class _KeptKeySigner(TimestampSigner):
    """A timestamp signer deriving each of its keys once."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        kept: dict[Any, bytes] = self.__dict__.setdefault("_derived", {})
        key = kept.get(secret_key)
        if key is None:
            key = kept[secret_key] = super().derive_key(secret_key)
        return key


class KeptSerializer(URLSafeTimedSerializer):
    """``URLSafeTimedSerializer`` with one signer per salt, kept, and short values left
    uncompressed (which its ``loads`` reads as it reads any value)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("signer", _KeptKeySigner)
        super().__init__(*args, **kwargs)
        self._signers: dict[Any, Any] = {}

    def make_signer(self, salt: str | bytes | None = None) -> Any:
        signer = self._signers.get(salt)
        if signer is None:
            signer = self._signers[salt] = super().make_signer(salt)
        return signer

    def dump_payload(self, obj: Any) -> bytes:
        json = Serializer.dump_payload(self, obj)
        if len(json) < _SHORT:
            return base64_encode(json)
        return super().dump_payload(obj)


_CSRF_SALT = "wtf-csrf-token"  # Flask-WTF's
_csrf_serializers: dict[Any, KeptSerializer] = {}


def sign_csrf(raw: str, secret: str | bytes) -> str:
    """The CSRF token of a session's random value, as Flask-WTF signs it (with the time)."""
    serializer = _csrf_serializers.get(secret)
    if serializer is None:
        serializer = _csrf_serializers[secret] = KeptSerializer(secret, salt=_CSRF_SALT)
    return serializer.dumps(raw)


def new_csrf_value() -> str:
    """A session's random value behind its CSRF tokens: 40 hex digits, as Flask-WTF's."""
    return secrets.token_hex(20)


def csrf_secret(config: Any, secret_key: Any) -> Any:
    return config.get("WTF_CSRF_SECRET_KEY") or secret_key


def csrf_token() -> str:
    """The request's CSRF token, as ``flask_wtf.csrf.generate_csrf`` gives it: the session
    keeps a random value, the token is that value signed with the time."""
    config = current_app.config
    name = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = g.get(name)
    if token is not None:
        return str(token)
    raw = session.get(name)
    if not isinstance(raw, str):
        raw = session[name] = new_csrf_value()
    token = sign_csrf(raw, csrf_secret(config, current_app.secret_key))
    setattr(g, name, token)
    return token
