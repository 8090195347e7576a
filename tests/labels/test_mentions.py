"""Funding mentions on labels: the scheme's (with the EU emblem), the collectivité's default
for items not invoiced yet, the scan prompt; every code still reads back."""

from __future__ import annotations

import json
import re

import pypdfium2
import pytest
import zxingcpp
from sqlalchemy import select

from inventory.core.audit import AuditRecord
from inventory.grants.aid import DATE_KEYS
from inventory.grants.models import FundingScheme
from inventory.grants.presets import EU_MENTION
from inventory.labels import tokens
from inventory.labels.models import LabelFormat
from inventory.labels.render import EU_BLUE, EU_GOLD, Label, Sheet, render_pdf
from inventory.orgs.models import Collectivite
from tests.factories import pdf_text
from tests.labels.builders import MM, filled_paths, fund_assets, overlaps, text_bounds
from tests.labels.specs import SPECS

QR = zxingcpp.BarcodeFormat.QRCode
BASE_URL = "https://socle.ville-exemple.fr"
PROMPT = "Un problème ? Scannez-moi"
BLUE = tuple(round(c * 255) for c in EU_BLUE)
GOLD = tuple(round(c * 255) for c in EU_GOLD)
BLACK = (0, 0, 0)


def flat(text: str) -> str:
    """The PDF's text with its line breaks as spaces: a wrapped mention reads whole."""
    return " ".join(text.split())


def sheet_of(db_session, code):
    return Sheet.of(db_session.scalar(select(LabelFormat).filter_by(code=code)))


def decode(pdf: bytes, index=0, dpi=300):
    doc = pypdfium2.PdfDocument(pdf)
    page = doc[index]
    image = page.render(scale=dpi / 72).to_pil()
    page.close()
    doc.close()
    return sorted(r.text for r in zxingcpp.read_barcodes(image, formats=QR))


def funded_labels(n, **extra):
    labels, urls = [], []
    for i in range(n):
        url = tokens.scan_url(BASE_URL, tokens.new_token())
        urls.append(url)
        labels.append(
            Label(
                tokens.qr_matrix(url),
                f"CRE-2021-{i:05d}",
                ("École élémentaire Jean Zay", "Classe 3", "Speechi SPE-75"),
                **extra,
            )
        )
    return labels, urls


def qr_boxes(pdf):
    """The codes' areas: the bounds of the black filled paths (one per code)."""
    return [b for colour, b in filled_paths(pdf) if colour == BLACK]


@pytest.mark.parametrize("code", sorted(SPECS))
def test_every_format_prints_the_emblem_mention_and_prompt_beside_a_readable_code(db_session, code):
    sheet = sheet_of(db_session, code)
    labels, urls = funded_labels(
        sheet.per_page, mention=EU_MENTION, emblem=True, france_relance=True, prompt=PROMPT
    )
    pdf = render_pdf(sheet, labels)
    assert decode(pdf) == sorted(urls)
    text = flat(pdf_text(pdf))
    assert text.count(EU_MENTION) == sheet.per_page, text[:400]
    assert text.count("France Relance") == sheet.per_page
    assert text.count(PROMPT) == sheet.per_page
    assert "…" not in text  # nothing of the mention was cut
    paths = filled_paths(pdf)
    flags = [b for colour, b in paths if colour == BLUE]
    stars = [b for colour, b in paths if colour == GOLD]
    assert len(flags) == sheet.per_page and len(stars) == 12 * sheet.per_page
    for left, bottom, right, top in flags:
        assert abs((right - left) / (top - bottom) - 1.5) < 0.01  # 3:2
        assert (top - bottom) >= 2.5 * MM  # large enough to see its stars
        inside = [s for s in stars if left < s[0] and s[2] < right and bottom < s[1] and s[3] < top]
        assert len(inside) == 12
    # Nothing covers a code: no text, no flag over any code's area.
    codes = qr_boxes(pdf)
    assert len(codes) == sheet.per_page
    for box in text_bounds(pdf) + flags:
        assert not any(overlaps(box, qr) for qr in codes), (box, code)
    # The flag does not cover the text either.
    for flag in flags:
        assert not any(overlaps(flag, t) for t in text_bounds(pdf))


def test_a_scheme_without_emblem_prints_its_mention_and_no_flag(db_session):
    sheet = sheet_of(db_session, "avery-l7160")
    mention = "Financé par l'État – Label écoles numériques 2020"
    labels, urls = funded_labels(4, mention=mention)
    pdf = render_pdf(sheet, labels)
    assert decode(pdf) == sorted(urls)
    assert flat(pdf_text(pdf)).count(mention) == 4
    colours = {colour for colour, _ in filled_paths(pdf)}
    assert BLUE not in colours and GOLD not in colours


def test_a_long_mention_is_wrapped_not_lost(db_session):
    sheet = sheet_of(db_session, "avery-l7163")
    mention = "Financé par la commune de Créteil avec le soutien du département du Val-de-Marne"
    labels, urls = funded_labels(2, mention=mention, emblem=True, prompt=PROMPT)
    pdf = render_pdf(sheet, labels)
    assert decode(pdf) == sorted(urls)
    assert flat(pdf_text(pdf)).count(mention) == 2


# -- through the application ---------------------------------------------------------------
def print_school(client, ecole_id, fmt="avery-l7160"):
    response = client.post(
        "/etiquettes", data={"ecole": ecole_id, "format": fmt, "start": 1, "action": "print"}
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


def test_funded_items_carry_their_scheme_and_the_others_the_default(
    login_as, items, db_session, client
):
    ecole, assets = items["ecole"], items["assets"]
    fund_assets(db_session, ecole, assets[:2])  # SNEE 2021: NextGenerationEU, emblem
    admin = login_as("admin")
    saved = admin.post(
        f"/collectivites/{items['coll']}/etiquettes",
        data={"labels-mention": "  Équipement de la  commune ", "labels-prompt": PROMPT},
    )
    assert saved.status_code == 302
    coll = db_session.get(Collectivite, items["coll"])
    db_session.refresh(coll)
    assert (coll.label_mention, coll.label_prompt) == ("Équipement de la commune", PROMPT)
    change = db_session.scalars(
        select(AuditRecord)
        .filter_by(object_type="collectivites", object_id=coll.id)
        .order_by(AuditRecord.id)
    ).all()[-1]
    assert set(change.changes) == {"label_mention", "label_prompt"}
    page = admin.get(f"/collectivites/{coll.id}").get_data(as_text=True)
    assert "Équipement de la commune" in page and PROMPT in page

    pdf = print_school(admin, ecole.id)
    assert len(decode(pdf)) == 5
    text = flat(pdf_text(pdf))
    assert text.count(EU_MENTION) == 2 and text.count("France Relance") == 2
    assert text.count("Équipement de la commune") == 3  # not invoiced yet
    assert text.count(PROMPT) == 5
    paths = filled_paths(pdf)
    assert sum(colour == BLUE for colour, _ in paths) == 2
    assert sum(colour == GOLD for colour, _ in paths) == 24


def test_the_scheme_form_asks_for_the_emblem(login_as, items, db_session):
    ecole, assets = items["ecole"], items["assets"]
    scheme = fund_assets(db_session, ecole, assets[:1], "label-ecoles-numeriques-2020")
    admin = login_as("admin")
    form = admin.get(f"/subventions/dispositifs/{scheme.id}").get_data(as_text=True)
    assert 'name="label_emblem"' in form and 'name="label_france_relance"' in form
    assert "checked" not in re.search(r'<input[^>]*name="label_emblem"[^>]*>', form).group(0)
    before = flat(pdf_text(print_school(admin, ecole.id)))
    assert "France Relance" not in before and scheme.funding_mention in before

    rules = {k: v for k, v in scheme.rules.items() if k not in DATE_KEYS}
    data = {
        "code": scheme.code,
        "name": scheme.name,
        "note": scheme.note or "",
        "funding_mention": "",
        "label_emblem": "y",
        "label_france_relance": "y",
        "spending_from": scheme.rules.get("spending_from") or "",
        "spending_to": scheme.rules.get("spending_to") or "",
        "claim_deadline": scheme.rules.get("claim_deadline") or "",
        "active": "y",
        "rules": json.dumps(rules),
    }
    saved = admin.post(f"/subventions/dispositifs/{scheme.id}", data=data)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    db_session.expire_all()
    scheme = db_session.get(FundingScheme, scheme.id)
    assert scheme.label_emblem and scheme.label_france_relance and not scheme.funding_mention
    record = db_session.scalars(
        select(AuditRecord)
        .filter_by(object_type="funding_schemes", object_id=scheme.id)
        .order_by(AuditRecord.id)
    ).all()[-1]
    assert {"label_emblem", "label_france_relance"} <= set(record.changes)

    pdf = print_school(admin, ecole.id)
    text = flat(pdf_text(pdf))
    # The emblem brings its statement when the scheme gives no mention.
    assert text.count(EU_MENTION) == 1 and text.count("France Relance") == 1
    assert sum(colour == BLUE for colour, _ in filled_paths(pdf)) == 1
    assert len(decode(pdf)) == 5


def test_a_too_long_prompt_is_refused_and_kept(login_as, items, db_session):
    admin = login_as("admin")
    long = "Un problème avec cet équipement ? Scannez ce code et dites-le nous"
    response = admin.post(
        f"/collectivites/{items['coll']}/etiquettes",
        data={"labels-mention": "Équipement de la commune", "labels-prompt": long},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "60" in page and long in page and "Équipement de la commune" in page
    coll = db_session.get(Collectivite, items["coll"])
    db_session.refresh(coll)
    assert coll.label_mention is None and coll.label_prompt is None


def test_only_administrators_set_the_label_texts(login_as, items, db_session):
    tech = login_as("technicien", [("collectivite", items["coll"])])
    response = tech.post(
        f"/collectivites/{items['coll']}/etiquettes",
        data={"labels-mention": "x", "labels-prompt": "y"},
    )
    assert response.status_code == 404
    page = tech.get(f"/collectivites/{items['coll']}").get_data(as_text=True)
    assert "labels-mention" not in page
