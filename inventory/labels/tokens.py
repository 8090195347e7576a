"""Scan tokens: opaque, random, short enough for a small QR code, revocable."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from typing import Any

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.core.db import utcnow
from inventory.labels.models import ScanToken

# Crockford's base32: no I, L, O or U, and every character is in the QR code's
# alphanumeric set, so that an upper-case URL fits a version-3 code at level M.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TOKEN_LENGTH = 16  # 80 bits


def new_token() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_LENGTH))


def scan_url(base_url: str, token: str) -> str:
    """``<base>/Q/<token>``, upper-cased when the base has no path, for the compact mode."""
    base = base_url.rstrip("/")
    scheme, _, rest = base.partition("://")
    if "/" not in rest:
        return f"{scheme.upper()}://{rest.upper()}/Q/{token}"
    return f"{base}/q/{token}"


def active_token(
    session: Session, *, asset_id: int | None = None, classroom_id: int | None = None
) -> ScanToken:
    """The item's current token, issued on first use."""
    stmt = select(ScanToken).where(ScanToken.revoked_at.is_(None))
    stmt = (
        stmt.where(ScanToken.asset_id == asset_id)
        if asset_id
        else stmt.where(ScanToken.classroom_id == classroom_id)
    )
    token = session.scalar(stmt.limit(1))
    if token is None:
        token = ScanToken(token=new_token(), asset_id=asset_id, classroom_id=classroom_id)
        session.add(token)
        session.flush()
    return token


def active_tokens(
    session: Session, *, asset_ids: Sequence[int] = (), classroom_ids: Sequence[int] = ()
) -> dict[tuple[str, int], ScanToken]:
    """The current tokens of many items at once, issuing the missing ones in one flush."""
    found: dict[tuple[str, int], ScanToken] = {}
    for kind, column, ids in (
        ("asset", ScanToken.asset_id, list(asset_ids)),
        ("classroom", ScanToken.classroom_id, list(classroom_ids)),
    ):
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            stmt = select(ScanToken).where(column.in_(chunk), ScanToken.revoked_at.is_(None))
            for tok in session.scalars(stmt):
                # The item's column is nullable, but the tokens are those of the given ids.
                if (of := tok.asset_id if kind == "asset" else tok.classroom_id) is not None:
                    found[(kind, of)] = tok
        for item_id in ids:
            if (kind, item_id) not in found:
                tok = ScanToken(token=new_token(), **{f"{kind}_id": item_id})
                session.add(tok)
                found[(kind, item_id)] = tok
    session.flush()
    return found


def reissue(session: Session, token: ScanToken) -> ScanToken:
    """Revoke ``token`` (a damaged or copied label) and issue its replacement."""
    token.revoked_at = utcnow()
    fresh = ScanToken(token=new_token(), asset_id=token.asset_id, classroom_id=token.classroom_id)
    session.add(fresh)
    session.flush()
    return fresh


# The token's letters as a set: a whole token is checked in one call (every scan does it).
_LETTERS = frozenset(ALPHABET)
# A label's URL, as a scanner types it or as it is pasted: the token follows /q/ or /Q/.
_IN_URL = re.compile(r"/q/([^/?#\s]+)", re.IGNORECASE)


def read_token(value: str) -> str | None:
    """The token a scanned value carries, whatever the case it was read in: the token
    alone, the path's part after ``/q/`` or a label's whole URL. None when it cannot be a
    token at all, so that no query is made for it."""
    value = value.strip()
    in_url = _IN_URL.search(value)
    if in_url is not None:
        value = in_url.group(1)
    value = value.upper()
    if len(value) != TOKEN_LENGTH or not _LETTERS.issuperset(value):
        return None
    return value


def find(session: Session, value: str, *options: Any) -> ScanToken | None:
    """The token a scanned value carries (:func:`read_token`), revoked or not, loaded with
    the given loader ``options``."""
    token = read_token(value)
    if token is None:
        return None
    return session.scalar(select(ScanToken).where(ScanToken.token == token).options(*options))


# -- QR matrices, computed once per token ------------------------------------------------
def qr_matrix(url: str) -> list[list[bool]]:
    """The QR matrix of ``url`` at level M, version 3 when it fits (29 × 29 modules, readable
    at 15 mm). The mask is fixed rather than searched: any mask is valid, and choosing
    one is most of the cost of making a code."""
    try:
        code = qrcode.QRCode(version=3, error_correction=ERROR_CORRECT_M, border=0, mask_pattern=4)
        code.add_data(url, optimize=0)
        code.make(fit=False)
    except DataOverflowError:
        code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
        code.add_data(url, optimize=0)
        code.make(fit=True)
    return code.get_matrix()


def pack(matrix: list[list[bool]]) -> str:
    return "\n".join("".join("1" if m else "0" for m in row) for row in matrix)


def unpack(packed: str) -> list[list[bool]]:
    return [[c == "1" for c in row] for row in packed.split("\n")]


def matrix_for(token: ScanToken, url: str) -> list[list[bool]]:
    """The token's QR matrix, from its cache when the URL is the same."""
    if token.matrix and token.matrix_url == url:
        return unpack(token.matrix)
    matrix = qr_matrix(url)
    token.matrix, token.matrix_url = pack(matrix), url
    return matrix
