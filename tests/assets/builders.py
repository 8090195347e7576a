"""Builders shared by the equipment tests and the import jobs' tests: the page helpers (a
form's field, the tags on a page, adding an item through the form) and the spreadsheet rows."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from sqlalchemy import select

from inventory.assets.socle import TARGET_LEVELS
from inventory.assets.spreadsheet import FIELDS
from inventory.orgs.models import Classroom, Ecole, SchoolNature

KEYS = [f.key for f in FIELDS]


def input_tag(html: str, field_id: str) -> str:
    found = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{field_id}"[^>]*>', html)
    assert found, f"no field {field_id}"
    return found.group(0)


def tags_in(html: str) -> set[str]:
    return set(re.findall(r"<code>([A-Z]{3}-\d{4}-\d{5})</code>", html))


def english(client):
    assert client.post("/language", data={"lang": "en", "next": "/"}).status_code == 302
    return client


def first_school_with_target_rooms(db_session, collectivite_id: int) -> Ecole:
    """The first elementary school of a collectivité with at least two target classrooms."""
    for ecole in db_session.scalars(
        select(Ecole)
        .where(Ecole.collectivite_id == collectivite_id, Ecole.nature != SchoolNature.MATERNELLE)
        .order_by(Ecole.id)
    ):
        rooms = [r for r in ecole.classrooms if set(r.level_list) & set(TARGET_LEVELS)]
        if len(rooms) >= 2:
            return ecole
    raise AssertionError("no elementary school with classrooms")


def item(cats, **data) -> dict[str, str]:
    return {
        "category": str(cats["eni"]),
        "manufacturer": "Speechi",
        "model": "SpeechiTouch 75",
        "status": "delivered",
        **data,
    }


def add(client, cats, room_id: int, **data):
    return client.post(f"/equipements/nouveau?classroom={room_id}", data=item(cats, **data))


def added_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(re.fullmatch(r"/equipements/(\d+)", response.location).group(1))


def rooms_of(db_session, registry, commune):
    """(UAI, classroom name) of the classrooms of a commune's schools, in a stable order."""
    coll_id = registry["collectivites"][commune]
    return db_session.execute(
        select(Ecole.uai, Classroom.name)
        .join(Classroom, Classroom.ecole_id == Ecole.id)
        .where(Ecole.collectivite_id == coll_id)
        .order_by(Ecole.uai, Classroom.position)
    ).all()


def sheet_row(**values):
    row = dict.fromkeys(KEYS, "")
    row.update(values)
    return [row[k] for k in KEYS]


def sample_items(rooms, n=20, prefix="SN"):
    """``n`` varied, valid items spread over ``rooms``."""
    kinds = [
        ("tni", "Speechi", "SpeechiTouch 75"),
        ("vpi", "Epson", "EB-735Fi"),
        ("poste_enseignant", "Dell", "Latitude 3540"),
        ("tablette", "Apple", "iPad 10"),
    ]
    rows = []
    for i in range(n):
        uai, room = rooms[i % len(rooms)]
        category, maker, model = kinds[i % len(kinds)]
        rows.append(
            sheet_row(
                uai=uai,
                classe=room,
                categorie=category,
                fabricant=maker,
                modele=model,
                numero_serie=f"{prefix}{i:04d}",
                statut="in_service" if i % 2 else "livré",
                fournisseur="UGAP",
                numero_commande=f"BC-{i}",
                numero_facture="F-2024-0412",
                date_achat="02/09/2024" if i % 3 else "2024-09-02",
                prix_ht="2 490,00" if i % 2 else "1000.5",
                prix_ttc="2988,00" if i % 2 else "1200.60",
                fin_garantie="2029-09-01",
                mac=f"00-1A-2B-3C-4D-{i:02X}",
                ip=f"10.94.0.{i + 10}",
                notes="posé au mur" if i % 4 == 0 else "",
            )
        )
    return rows


def to_xlsx(header, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, data, filename, **form):
    return client.post(
        "/equipements/import",
        data={"file": (io.BytesIO(data), filename), **form},
        content_type="multipart/form-data",
    )
