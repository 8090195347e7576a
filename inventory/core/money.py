"""Money as integer cents: parsing what people type and formatting for display."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_SPACES = re.compile(r"[\s\u00a0\u202f€]")


class AmountError(ValueError):
    pass


def parse_amount(text: str | int | float | Decimal | None) -> int | None:
    """'1 234,56 €', '1234.56', 1234.56 → 123456 cents; '' → None.

    Rounds half up to the cent, the rule used everywhere in Socle.
    """
    if text is None:
        return None
    if isinstance(text, int | float | Decimal):
        value = Decimal(str(text))
    else:
        cleaned = _SPACES.sub("", text)
        if not cleaned:
            return None
        if "," in cleaned and "." in cleaned:
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", ".")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise AmountError(text) from None
    if not value.is_finite() or value < 0:
        raise AmountError(str(text))
    return int((value * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def cents_to_decimal(cents: int | None) -> Decimal | None:
    return None if cents is None else Decimal(cents) / 100


def plain_amount(cents: int | None) -> str:
    """Cents as '1234.56' for files (exports read back by the importer)."""
    return "" if cents is None else f"{Decimal(cents) / 100:.2f}"
