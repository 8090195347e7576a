"""The history panel, the journal and its export read in the users' words: field labels,
translated codes, euros, Paris times and names, in French and in English; the journal's
text search finds a record by what a user reads."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import event, select

from inventory.assets.models import Asset
from inventory.core.audit import AuditRecord
from inventory.extensions import db
from inventory.orgs.models import Classroom
from tests.assets.builders import add, added_id, item


def _french(client):
    assert client.post("/language", data={"lang": "fr", "next": "/"}).status_code == 302
    return client


def _english(client):
    assert client.post("/language", data={"lang": "en", "next": "/"}).status_code == 302
    return client


def _text(html: str) -> str:
    """The page's text, tags dropped and spaces joined (as a reader sees it)."""
    text = re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").replace("&#34;", '"')
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def _journal(client, query: str) -> str:
    """The journal's table as read (the page's flashed messages left out)."""
    html = client.get(f"/journal?{query}").get_data(as_text=True)
    return _text(html[html.index("</thead>") :])


def _an_item_with_a_past(tech, cats, creteil, db_session) -> Asset:
    """An item put in service, sent to repair, priced, moved to another classroom."""
    first, second = creteil["rooms"][:2]
    asset_id = added_id(add(tech, cats, first, serial="HIST-1"))
    url = f"/equipements/{asset_id}/statut"
    assert tech.post(url, data={"status": "in_service"}).status_code == 302
    assert tech.post(url, data={"status": "under_repair"}).status_code == 302
    asset = db_session.get(Asset, asset_id)
    data = item(
        cats,
        tag=asset.tag,
        serial="HIST-1",
        status="under_repair",
        price_ht="1234,56",
        purchase_date="2026-03-12",
        version=str(asset.version),
    )
    assert tech.post(f"/equipements/{asset_id}/modifier", data=data).status_code == 302
    moved = tech.post(
        f"/equipements/{asset_id}/deplacer", data={"destination": f"classroom:{second}"}
    )
    assert moved.status_code == 302
    db_session.expire_all()
    return db_session.get(Asset, asset_id)


def _status_since(db_session, asset_id: int) -> datetime:
    rec = db_session.scalars(
        select(AuditRecord)
        .where(AuditRecord.object_type == "assets", AuditRecord.object_id == asset_id)
        .order_by(AuditRecord.id.desc())
    ).all()
    stored = next(r.changes["status_since"][1] for r in rec if "status_since" in r.changes)
    when = datetime.fromisoformat(stored)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(ZoneInfo("Europe/Paris"))


def test_an_items_history_reads_in_french_and_in_english(tech, cats, creteil, db_session):
    asset = _an_item_with_a_past(tech, cats, creteil, db_session)
    second_room = db_session.get(Classroom, creteil["rooms"][1]).name
    first_room = db_session.get(Classroom, creteil["rooms"][0]).name
    paris = _status_since(db_session, asset.id)

    page = _text(_french(tech).get(f"/equipements/{asset.id}").get_data(as_text=True))
    assert "Historique" in page
    assert "— Technicien1 — modification" in page  # the author by name, not by address
    assert "Statut en service en réparation" in page  # the field, before, after (a table)
    assert "in_service" not in page and "under_repair" not in page
    assert "Prix HT — 1 234,56 €" in page
    assert "123456" not in page
    assert "Date d'achat — 12 mars 2026" in page
    # The status's date, in Paris time (the hour the clock showed in Paris).
    # (The row reads "Statut depuis <before> <after>": the before may be another minute.)
    assert "Statut depuis le " in page and f" le {paris:%d/%m/%Y %H:%M}" in page
    # The classroom is named, never a number.
    assert f"Classe {first_room} {second_room}" in page
    assert "classroom_id" not in page and "price_ht_cents" not in page

    page = _text(_english(tech).get(f"/equipements/{asset.id}").get_data(as_text=True))
    assert "Status in service under repair" in page
    assert "Price excl. VAT — 1,234.56 €" in page
    assert "Purchase date — 12 Mar 2026" in page or "Purchase date — Mar 12, 2026" in page
    assert f"Classroom {first_room} {second_room}" in page


def test_the_journal_and_its_export_read_the_same(tech, cats, creteil, db_session):
    asset = _an_item_with_a_past(tech, cats, creteil, db_session)
    first_room = db_session.get(Classroom, creteil["rooms"][0]).name
    second_room = db_session.get(Classroom, creteil["rooms"][1]).name
    _french(tech)
    html = tech.get(f"/journal?type=assets&q={asset.tag}").get_data(as_text=True)
    page = _text(html)
    assert '<option value="assets" selected>Équipement</option>' in html
    assert "Équipement · " + asset.tag in page
    assert "Statut : en service → en réparation" in page
    assert "Prix HT : — → 1 234,56 €" in page
    assert f"Classe : {first_room} → {second_room}" in page
    assert 'href="/journal.csv?' in html

    export = tech.get(f"/journal.csv?type=assets&q={asset.tag}")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    text = export.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][3:] == ["Type", "Objet", "Modifications"]
    body = [r for r in rows[1:] if r[4] == asset.tag]
    changes = " | ".join(r[5] for r in body)
    assert "Statut : en service → en réparation" in changes
    assert "Prix HT : — → 1 234,56 €" in re.sub(r"[\u00a0\u202f]", " ", changes)
    assert f"Classe : {first_room} → {second_room}" in changes
    assert {r[3] for r in body} == {"Équipement"}
    assert {r[2] for r in body} == {"création", "modification"}
    # The export's times are Paris times, newest first.
    latest = db_session.scalars(
        select(AuditRecord)
        .where(AuditRecord.object_type == "assets", AuditRecord.object_id == asset.id)
        .order_by(AuditRecord.id.desc())
    ).first()
    paris = latest.at.astimezone(ZoneInfo("Europe/Paris")).replace(tzinfo=None, microsecond=0)
    assert body[0][0] == paris.isoformat()


def test_the_journal_search_finds_a_record_by_what_users_read(tech, cats, creteil, db_session):
    asset = _an_item_with_a_past(tech, cats, creteil, db_session)
    other = added_id(add(tech, cats, creteil["rooms"][0], serial="OTHER-9"))
    other_tag = db_session.get(Asset, other).tag
    _french(tech)
    # By the object's name.
    page = _journal(tech, f"q={asset.tag}")
    assert asset.tag in page and other_tag not in page
    # By a changed value as stored…
    page = _journal(tech, "q=hist-1")
    assert asset.tag in page and other_tag not in page
    # …or as read: a status's French name finds the code it stands for.
    page = _journal(tech, "q=en+réparation")
    assert asset.tag in page and other_tag not in page
    # By the type's name.
    page = _journal(tech, "q=Équipement")
    assert asset.tag in page and other_tag in page
    # Nothing matching: an empty journal, not an error.
    page = _journal(tech, "q=zzz-nothing-zzz")
    assert "Aucune modification enregistrée." in page and asset.tag not in page


def test_a_page_of_the_journal_names_its_references_in_few_queries(
    app, tech, cats, creteil, db_session
):
    for n in range(6):  # six items, each naming a model, a school, a classroom
        added_id(add(tech, cats, creteil["rooms"][n % 2], serial=f"MANY-{n}"))
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = _journal(tech, "type=assets")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert page.count("Model: — → SpeechiTouch 75") == 6
    for table in ("classrooms", "equipment_models", "ecoles", "collectivites"):
        assert len([s for s in statements if s.startswith(f"SELECT {table}.")]) == 1, table


def test_an_old_record_of_a_field_gone_reads_as_stored(tech, cats, creteil, db_session):
    asset_id = added_id(add(tech, cats, creteil["rooms"][0]))
    db_session.execute(
        AuditRecord.__table__.insert(),
        [
            {
                "at": datetime.now(UTC),
                "actor_id": None,
                "actor_label": "system",
                "action": "update",
                "object_type": "assets",
                "object_id": asset_id,
                "object_label": "old",
                "ecole_id": creteil["ecole"],
                "collectivite_id": creteil["coll"],
                "changes": {"colour": ["red", "blue"], "status": ["melted", None]},
            },
            {
                "at": datetime.now(UTC),
                "actor_id": None,
                "actor_label": "system",
                "action": "update",
                "object_type": "gone_table",
                "object_id": 1,
                "object_label": "ghost",
                "ecole_id": creteil["ecole"],
                "collectivite_id": creteil["coll"],
                "changes": {"flag": [True, False], "data": [None, {"a": 1}]},
            },
        ],
    )
    db_session.commit()
    page = _text(_english(tech).get(f"/equipements/{asset_id}").get_data(as_text=True))
    assert "colour red blue" in page and "Status melted —" in page
    page = _journal(tech, "q=ghost")
    assert "gone_table · ghost" in page and "flag: yes → no" in page


def test_the_journal_pages_along_its_records(tech, cats, creteil, db_session):
    ids = [added_id(add(tech, cats, creteil["rooms"][0], serial=f"PAGE-{n}")) for n in range(3)]
    tags = [db_session.get(Asset, i).tag for i in ids]
    middle = db_session.scalar(
        select(AuditRecord.id).where(
            AuditRecord.object_type == "assets", AuditRecord.object_id == ids[1]
        )
    )
    # The page after the middle item's record: the older ones only, the search kept.
    older = _journal(tech, f"type=assets&q=page-&after={middle}")
    assert tags[0] in older and tags[1] not in older and tags[2] not in older
    newer = _journal(tech, f"type=assets&q=page-&before={middle}")
    assert tags[2] in newer and tags[1] not in newer and tags[0] not in newer
    # A type no description names (an old table) is still a filter, never an error.
    assert tech.get("/journal?type=jobs").status_code == 200
    assert tech.get("/journal?type=nonsense&page=99999999").status_code == 200
