"""QR labels: geometry of every shipped format, codes read back by a real decoder, tokens."""

from __future__ import annotations

import io
import re

import pypdfium2
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from inventory.labels import tokens
from inventory.labels.models import LabelFormat, PrintJob, ScanToken
from inventory.labels.render import Label, Sheet, fit_text, render_pdf
from tests.labels.specs import SPECS

MM = 72 / 25.4
QR = zxingcpp.BarcodeFormat.QRCode
BASE_URL = "https://socle.ville-exemple.fr"


def matrix_of(url):
    return tokens.qr_matrix(url)


def make_labels(n, base=BASE_URL):
    out, urls = [], []
    for i in range(n):
        url = tokens.scan_url(base, tokens.new_token())
        urls.append(url)
        out.append(
            Label(
                matrix_of(url),
                f"CRE-2021-{i:05d}",
                ("École élémentaire Jean Zay", "Classe 3", "Speechi SPE-75"),
                "Financé par l'Union européenne – NextGenerationEU",
            )
        )
    return out, urls


def formats(db_session):
    return {f.code: f for f in db_session.scalars(select(LabelFormat))}


def outline_boxes(pdf: bytes, page_index=0):
    """Bounds (mm, from the top-left) of the stroked label outlines drawn on a page."""
    doc = pypdfium2.PdfDocument(pdf)
    page = doc[page_index]
    height = page.get_height()
    boxes = []
    for obj in page.get_objects():
        if obj.type != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        fill, stroke = pdfium_c.c_int(), pdfium_c.c_int()
        pdfium_c.FPDFPath_GetDrawMode(obj.raw, fill, stroke)
        if not stroke.value:
            continue
        left, bottom, right, top = obj.get_bounds()
        boxes.append(
            (
                round(left / MM, 2),
                round((height - top) / MM, 2),
                round((right - left) / MM, 2),
                round((top - bottom) / MM, 2),
            )
        )
    page.close()
    doc.close()
    return sorted(boxes, key=lambda b: (b[1], b[0]))


@pytest.mark.parametrize("code", sorted(SPECS))
def test_every_format_matches_its_specification(db_session, code):
    fmt = formats(db_session)[code]
    cols, rows, w, h, left, top, px, py = SPECS[code]
    sheet = Sheet.of(fmt)
    labels, _ = make_labels(sheet.per_page)
    pdf = render_pdf(sheet, labels, outline=True)
    boxes = outline_boxes(pdf)
    assert len(boxes) == cols * rows
    expected = sorted(
        ((left + c * px, top + r * py, w, h) for r in range(rows) for c in range(cols)),
        key=lambda b: (b[1], b[0]),
    )
    for got, want in zip(boxes, expected, strict=True):
        # Half the 0.1 pt outline stroke lies outside the box.
        assert all(abs(g - x) <= 0.2 for g, x in zip(got, want, strict=True)), (got, want)
    doc = pypdfium2.PdfDocument(pdf)
    page_w, page_h = doc[0].get_size()
    assert abs(page_w / MM - fmt.page_width) <= 0.2 and abs(page_h / MM - fmt.page_height) <= 0.2
    doc.close()


def decode_page(pdf: bytes, index=0, dpi=300):
    doc = pypdfium2.PdfDocument(pdf)
    page = doc[index]
    image = page.render(scale=dpi / 72).to_pil()
    page.close()
    doc.close()
    # Only QR codes are printed: a linear-barcode reading of a QR module pattern
    # is a false positive of the decoder, not something on the label.
    return sorted(r.text for r in zxingcpp.read_barcodes(image, formats=QR))


def test_every_code_on_a_page_reads_back(db_session):
    sheet = Sheet.of(formats(db_session)["avery-l7160"])
    labels, urls = make_labels(21)
    pdf = render_pdf(sheet, labels)
    assert decode_page(pdf) == sorted(urls)
    # Each label adds well under 2 KB (the embedded font subset is paid once per file).
    more, _ = make_labels(42)
    assert (len(render_pdf(sheet, more)) - len(pdf)) / 21 < 2048


def test_the_smallest_labels_still_read_back(db_session):
    sheet = Sheet.of(formats(db_session)["avery-l7651"])
    labels, urls = make_labels(65)
    assert decode_page(render_pdf(sheet, labels)) == sorted(urls)


def test_urls_fit_a_version_3_code():
    url = tokens.scan_url(BASE_URL, tokens.new_token())
    assert url.startswith("HTTPS://SOCLE.VILLE-EXEMPLE.FR/Q/") and len(url) <= 61
    assert len(tokens.qr_matrix(url)) == 29  # version 3


def test_tokens_are_random_and_unrelated_to_ids():
    values = {tokens.new_token() for _ in range(2000)}
    assert len(values) == 2000
    assert all(len(v) == 16 and set(v) <= set(tokens.ALPHABET) for v in values)


HOSTILE = [
    "École " + "très " * 60 + "longue",
    "<script>alert('x')</script> & <b>gras</b>",
    "مدرسة الاختبار الابتدائية",
    "Classe 🦊🚀 des renards 🎒",
    "W" * 120,
]


def test_hostile_names_keep_the_layout(db_session):
    sheet = Sheet.of(formats(db_session)["avery-l7160"])
    labels, urls = [], []
    for name in HOSTILE:
        url = tokens.scan_url(BASE_URL, tokens.new_token())
        urls.append(url)
        labels.append(Label(matrix_of(url), name, (name, name, name), name))
    pdf = render_pdf(sheet, labels, outline=True)
    assert decode_page(pdf) == sorted(urls)
    doc = pypdfium2.PdfDocument(pdf)
    page = doc[0]
    height = page.get_height()
    boxes = [(sheet.origin(i)) for i in range(len(HOSTILE))]
    for obj in page.get_objects():
        if obj.type != pdfium_c.FPDF_PAGEOBJ_TEXT:
            continue
        left, bottom, right, top = obj.get_bounds()
        inside = any(
            x * MM - 0.5 <= left
            and right <= (x + sheet.label_width) * MM + 0.5
            and y * MM - 0.5 <= bottom
            and top <= (y + sheet.label_height) * MM + 0.5
            for x, y in boxes
        )
        assert inside, (left, bottom, right, top, height)
    text = page.get_textpage().get_text_range()
    assert "…" in text  # what could not fit is marked, not silently cut
    page.close()
    doc.close()


def test_fit_text_shrinks_then_wraps_then_marks():
    lines, size = fit_text("Court", "SocleSans", 100, 9)
    assert lines == ["Court"] and size == 9
    lines, size = fit_text("Un nom un peu plus long que prévu", "SocleSans", 100, 9, max_lines=2)
    assert 1 <= len(lines) <= 2 and size >= 4.5
    lines, _ = fit_text("x" * 500, "SocleSans", 50, 9, max_lines=2)
    assert lines[-1].endswith("…")


# -- through the application ---------------------------------------------------------------
def test_print_from_position_5_logs_and_reprints(login_as, items, db_session, app):
    client = login_as("technicien", [("collectivite", items["coll"])])
    page = client.get(f"/etiquettes?ecole={items['ecole'].id}")
    assert page.status_code == 200 and "5" in page.get_data(as_text=True)
    response = client.post(
        "/etiquettes",
        data={"ecole": items["ecole"].id, "format": "avery-l7160", "start": 5, "action": "print"},
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.data
    urls = decode_page(pdf)
    tokens_now = {
        t.token for t in db_session.scalars(select(ScanToken).where(ScanToken.revoked_at.is_(None)))
    }
    assert len(urls) == 5 and {u.rsplit("/", 1)[1] for u in urls} == tokens_now
    # No BASE_URL in the tests: a test app prints the address it was reached at.
    assert all(u.startswith("HTTP://LOCALHOST/Q/") for u in urls)
    job = db_session.scalar(select(PrintJob))
    assert job.count == 5 and job.skip == 4 and job.format_code == "avery-l7160"
    # Reprint: the same codes, from the cached matrices.
    again = client.post(f"/etiquettes/historique/{job.id}")
    assert again.status_code == 200 and decode_page(again.data) == urls


def test_reprint_uses_cached_matrices(login_as, items, db_session, monkeypatch):
    client = login_as("technicien", [("collectivite", items["coll"])])
    client.post(
        "/etiquettes",
        data={"ecole": items["ecole"].id, "format": "dymo-54x25", "start": 1, "action": "print"},
    )
    assert all(t.matrix for t in db_session.scalars(select(ScanToken)))

    def no_more(url):
        raise AssertionError("a cached matrix was computed again")

    monkeypatch.setattr(tokens, "qr_matrix", no_more)
    job = db_session.scalar(select(PrintJob))
    response = client.post(f"/etiquettes/historique/{job.id}")
    assert response.status_code == 200
    assert len(pypdfium2.PdfDocument(response.data)) == 5  # one tape label per page


def test_start_position_out_of_range_is_explained(login_as, items):
    client = login_as("technicien", [("collectivite", items["coll"])])
    response = client.post(
        "/etiquettes",
        data={"ecole": items["ecole"].id, "format": "avery-l7160", "start": 22, "action": "print"},
    )
    assert response.status_code == 422
    assert "21" in response.get_data(as_text=True)


def test_preview_outlines_the_sheet(login_as, items):
    client = login_as("technicien", [("collectivite", items["coll"])])
    response = client.post(
        "/etiquettes",
        data={"ecole": items["ecole"].id, "format": "avery-l7160", "start": 3, "action": "preview"},
    )
    assert response.headers["Content-Disposition"].startswith("inline")
    assert len(outline_boxes(response.data)) == 5


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_config", [{"LABEL_SYNC_LIMIT": 2}], indirect=True)
def test_large_prints_run_as_a_job_with_progress(login_as, items, db_session):
    client = login_as("technicien", [("collectivite", items["coll"])])
    response = client.post(
        "/etiquettes",
        data={"ecole": items["ecole"].id, "format": "avery-l7163", "start": 1, "action": "print"},
    )
    assert response.status_code == 302 and "/taches/" in response.location
    page = client.get(response.location).get_data(as_text=True)
    link = re.search(r'href="(/etiquettes/travaux/\d+/fichier)"', page)
    assert link, page
    assert 'http-equiv="refresh"' not in page  # done: the page stops refreshing
    with client.get(link.group(1)) as pdf:
        assert len(decode_page(pdf.data)) == 5


def test_revoked_label_says_it_was_replaced(login_as, items, db_session, client):
    asset = items["assets"][0]
    tech = login_as("technicien", [("collectivite", items["coll"])])
    tech.get(f"/equipements/{asset.id}/etiquette.png")
    old = db_session.scalar(select(ScanToken).filter_by(asset_id=asset.id)).token
    assert tech.post(f"/equipements/{asset.id}/etiquette/renouveler").status_code == 302
    db_session.expire_all()
    new = db_session.scalar(select(ScanToken).filter_by(asset_id=asset.id, revoked_at=None))
    assert new.token != old
    anonymous = tech.application.test_client()
    replaced = anonymous.get(f"/q/{old}")
    assert replaced.status_code == 410
    assert "remplac" in replaced.get_data(as_text=True) or "replaced" in replaced.get_data(
        as_text=True
    )
    works = anonymous.get(f"/Q/{new.token}")
    assert works.status_code == 200 and asset.tag in works.get_data(as_text=True)
    assert anonymous.get("/q/NOTAVALIDTOKEN00").status_code == 404
    # A signed-in technician in scope lands on the item's page.
    assert tech.get(f"/q/{new.token.lower()}").location.endswith(f"/equipements/{asset.id}")


def test_single_label_svg_and_png(login_as, items):
    client = login_as("technicien", [("collectivite", items["coll"])])
    asset = items["assets"][1]
    png = client.get(f"/equipements/{asset.id}/etiquette.png")
    assert png.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)), formats=QR)
    assert decoded and "/Q/" in decoded[0].text
    svg = client.get(f"/equipements/{asset.id}/etiquette.svg")
    assert svg.mimetype == "image/svg+xml" and asset.tag in svg.get_data(as_text=True)


def test_out_of_scope_technician_prints_nothing(login_as, items, registry):
    client = login_as("technicien", [("collectivite", registry["collectivites"]["Créteil"])])
    response = client.post(
        "/etiquettes",
        data={"ecole": items["ecole"].id, "format": "avery-l7160", "start": 1, "action": "print"},
    )
    assert response.status_code == 422  # nothing to print: those items are not theirs
    asset = items["assets"][0]
    assert client.get(f"/equipements/{asset.id}/etiquette.png").status_code == 404


def test_labels_of_a_filtered_list_are_those_of_its_items(login_as, items, db_session):
    """The equipment list's "print the labels" link carries every filter it shows."""
    client = login_as("technicien", [("collectivite", items["coll"])])
    no_serial = items["assets"][0]
    no_serial.serial = None
    db_session.commit()
    listed = client.get(f"/equipements?ecole={items['ecole'].id}&missing_serial=y")
    html = listed.get_data(as_text=True)
    link = re.search(r'href="(/etiquettes\?[^"]+)"', html)
    assert link and "missing_serial=y" in link.group(1)
    response = client.post(
        link.group(1).replace("&amp;", "&"),
        data={"format": "avery-l7160", "start": 1, "action": "print"},
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    token = db_session.scalar(
        select(ScanToken.token).where(
            ScanToken.asset_id == no_serial.id, ScanToken.revoked_at.is_(None)
        )
    )
    assert [u.rsplit("/", 1)[1] for u in decode_page(response.data)] == [token]
