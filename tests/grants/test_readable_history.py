"""A dossier's history and the evidence pack's journal read in the users' words: the
payment's kind, its amount in euros, its date, the dossier named."""

from __future__ import annotations

import csv
import io
import re
import zipfile

from sqlalchemy import select

from inventory.core.policy import Role
from inventory.grants.models import Payment
from tests.reports.builders import download_pack


def _french(client):
    assert client.post("/language", data={"lang": "fr", "next": "/"}).status_code == 302
    return client


def _plain(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def test_a_dossiers_history_names_amounts_dates_and_kinds(programme, login_as, db_session):
    client = _french(login_as(Role.ADMIN))
    dossier = programme["dossiers"]["creteil"]
    payment = db_session.scalars(
        select(Payment).where(Payment.dossier_id == dossier).order_by(Payment.id)
    ).first()
    saved = client.post(
        f"/subventions/versements/{payment.id}",
        data={"kind": "instalment", "received_on": "2022-05-02", "received": "1 234,56"},
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    html = client.get(f"/subventions/{dossier}").get_data(as_text=True)
    history = _plain(re.sub(r"<[^>]+>", " ", html[html.index('id="history-title"') :]))
    assert "(Versement)" in history
    assert "Type avance acompte" in history
    assert "Montant reçu 3 000,01 € 1 234,56 €" in history
    assert "Reçu le 15 avr. 2022 2 mai 2022" in history
    assert "received_cents" not in history and "300001" not in history


def test_the_evidence_packs_journal_reads_like_the_journal(programme, login_as):
    client = _french(login_as(Role.ADMIN))
    dossier = programme["dossiers"]["creteil"]
    pack = download_pack(client, f"/tableau-de-bord/dossier/{dossier}/preuves")
    assert pack.status_code == 200
    with zipfile.ZipFile(io.BytesIO(pack.get_data())) as z:
        text = z.read("journal.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    payments = [r for r in rows[1:] if r[3] == "Versement"]
    assert len(payments) == 2
    changes = _plain(" | ".join(r[6] for r in payments))
    assert "Montant reçu : — → 3 000,01 €" in changes
    assert "Reçu le : — → 15 avr. 2022" in changes
    assert "Dossier : — → " in changes and "dossier_id" not in changes
    assert {r[3] for r in rows[1:]} >= {"Dossier de subvention", "Facture", "Versement"}
