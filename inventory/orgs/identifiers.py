"""Checks and normalisation of the French identifiers the registry relies on."""

from __future__ import annotations

import re

UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_UAI = re.compile(r"^\d{7}[A-Z]$")
_INSEE = re.compile(r"^(0[1-9]|[1-9][0-9AB])\d{3}$")
_DEPT = re.compile(r"^(0?[1-9]|[1-8]\d|9[0-5]|2[AB]|97[1-8]|98[4-9])$")


def uai_check_letter(first7: str) -> str:
    return UAI_LETTERS[int(first7) % 23]


def is_valid_uai(value: str) -> bool:
    return bool(_UAI.match(value)) and value[7] == uai_check_letter(value[:7])


def normalize_uai(value: str) -> str:
    return value.strip().upper()


def luhn_ok(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def is_valid_siren(value: str) -> bool:
    return len(value) == 9 and luhn_ok(value)


def is_valid_siret(value: str) -> bool:
    return len(value) == 14 and luhn_ok(value)


def siren_from_siret(value: str) -> str | None:
    """The SIREN of a valid SIRET, or None when the SIRET is absent or broken."""
    value = re.sub(r"\s", "", value or "")
    if is_valid_siret(value) and is_valid_siren(value[:9]):
        return value[:9]
    return None


def is_valid_insee(value: str) -> bool:
    return bool(_INSEE.match(value))


def normalize_departement(value: str) -> str | None:
    """'35', '035', '2A', '02a', '974' → the Annuaire's 3-character form, or None."""
    value = value.strip().upper()
    if len(value) == 3 and value[0] == "0":
        value = value[1:]
    if not _DEPT.match(value):
        return None
    return value.lstrip("0").rjust(3, "0")
