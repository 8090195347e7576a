"""The registry's real files (a sample of the Annuaire, a pupils-per-school extract), CSV
builders over them, and the accounts every test signs in with."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask.testing import FlaskClient

from inventory.core.policy import Role, Scope
from inventory.paths import ROOT

DATA = ROOT / "data"


ANNUAIRE_094 = DATA / "annuaire-education-094.csv"


EFFECTIFS_035 = DATA / "ecoles-effectifs-035-extract.csv"


PASSWORD = "correct-horse-battery-staple"


# Two communes of the real Val-de-Marne file: enough for scope tests, fast to import.
SAMPLE_COMMUNES = ("Fresnes", "Villecresnes", "Créteil")


class Admin:
    id = None
    role = Role.ADMIN
    scope = Scope(everything=True)


ADMIN = Admin()


def annuaire_rows(
    communes: tuple[str, ...] | None = SAMPLE_COMMUNES,
) -> tuple[list[str], list[list[str]]]:
    with ANNUAIRE_094.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        header = next(reader)
        col = header.index("Nom_commune")
        rows = [r for r in reader if communes is None or r[col] in communes]
    return header, rows


def to_csv(
    header: list[str],
    rows: list[list[str]],
    *,
    delimiter: str = ";",
    bom: bool = True,
    crlf: bool = True,
    encoding: str = "utf-8",
) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n").writerows(
        [header, *rows]
    )
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom and encoding == "utf-8" else data


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"email": email, "password": password})
