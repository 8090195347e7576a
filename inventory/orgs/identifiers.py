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


# A digit doubled, its digits added (Luhn): 7 → 14 → 5.
_DOUBLED = {str(d): (2 * d) % 9 if d < 9 else 9 for d in range(10)}
_PLAIN = {str(d): d for d in range(10)}


def luhn_ok(digits: str) -> bool:
    """The Luhn check: from the right, every second digit doubled (its digits added), the
    sum a multiple of ten. An import checks one SIRET per school: kept to a few lookups."""
    if not digits.isdigit() or not digits.isascii():
        return False
    total = sum(map(_PLAIN.__getitem__, digits[::-2])) + sum(
        map(_DOUBLED.__getitem__, digits[-2::-2])
    )
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


def departement_of_uai(uai: str) -> str | None:
    """The département a UAI's first three digits name, in the Annuaire's form ('035',
    '02A', '974'), or None when they name none (a UAI abroad, say).

    Corsica's UAIs start with 620 (2A) and 720 (2B), overseas ones with 97x."""
    prefix = uai[:3]
    if prefix == "620":
        return "02A"
    if prefix == "720":
        return "02B"
    return normalize_departement(prefix) if prefix.isdigit() else None


def departement_of_insee(insee: str) -> str:
    """The département of an INSEE commune code, in the Annuaire's form ('35238' → '035',
    '2A004' → '02A', '97411' → '974')."""
    if insee.startswith("97") or insee.startswith("98"):
        return insee[:3]
    return "0" + insee[:2]


def communes_of_siren(siren: str) -> tuple[str, ...]:
    """The INSEE code(s) a classic commune SIREN names, or () for any other SIREN.

    A commune registered before the 2000s has the SIREN 21 + département + 0 + commune
    number + key: 214002578 is INSEE 40257; overseas, 21 + 97x + 0 + two digits + key
    (219740115 is 97411). Corsica's SIRENs kept the département 20, which the COG splits
    into 2A and 2B: both are candidates. Newer bodies (communes nouvelles, EPCI,
    syndicats) have SIRENs starting with 200 and say nothing of their commune.
    """
    if len(siren) != 9 or not siren.startswith("21") or not siren.isdigit():
        return ()
    if siren[2:4] == "97":
        return (siren[2:5] + siren[6:8],) if siren[5] == "0" else ()
    if siren[4] != "0":
        return ()
    number = siren[5:8]
    if siren[2:4] == "20":
        return ("2A" + number, "2B" + number)
    return (siren[2:4] + number,)


def looks_like_postal_code(code: str, postal_code: str = "") -> bool:
    """True for a commune code that is a postal code rather than an INSEE (COG) code:
    the row's own postal code, a 'xx000' (or overseas '9xx00') office code, which no
    commune number is, or a Corsican '20xxx' (the COG writes 2A and 2B)."""
    if not (len(code) == 5 and code.isdigit()):
        return False
    if postal_code and code == postal_code:
        return True
    if code.startswith("97") or code.startswith("98"):
        return code.endswith("00")
    return code.endswith("000") or code.startswith("20")
