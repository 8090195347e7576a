"""Text normalisation shared by search and header matching."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")


def fold(value: str) -> str:
    """Lower-case, accent-free form used for search ('École Émile' → 'ecole emile')."""
    if value.isascii():  # most names and codes: no accent to take off
        return value.lower()
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def slug_key(value: str) -> str:
    """Header key: 'Code postal', 'Code_postal' and 'code_postal' all give 'code_postal'."""
    return _NON_WORD.sub("_", fold(value.strip().lstrip("\ufeff"))).strip("_")
