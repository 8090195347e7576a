"""A technician narrows a school's equipment to its interactive screens, prints their labels
on a partly used Avery L7160 sheet from position 5, and downloads the PDF. The PDF is read
back as a printer would print it: rendered to an image, each position of the sheet cut out
and its QR code decoded with zxing-cpp. Every page is checked with axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from flask import Flask
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import AssetStatus
from inventory.labels import tokens
from inventory.labels.models import PrintJob, ScanToken
from inventory.orgs.models import Classroom, Ecole
from tests.conftest import ADMIN
from tests.e2e.axe import check_a11y
from tests.labels.specs import SPECS

UAI, OTHER_UAI = "0940176F", "0940289D"  # Robert Doisneau and Jean Monet, Fresnes
FORMAT = "avery-l7160"
START = 5  # positions 1 to 4 of the sheet were used before
DPI = 300


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts are not what these tests are about: hash their passwords cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def _seed(db_session: Any) -> dict[str, Any]:
    """A screen in each of the school's first four classrooms and two teacher laptops;
    a screen in another school of the commune. Only the four screens are to be labelled."""
    ecole = db_session.scalar(select(Ecole).filter_by(uai=UAI))
    other = db_session.scalar(select(Ecole).filter_by(uai=OTHER_UAI))
    eni = catalogue.category_by_code(db_session, "eni")
    screen = catalogue.get_or_create_model(db_session, "Speechi", "SPE-75", eni)
    laptop = catalogue.get_or_create_model(
        db_session,
        "Dell",
        "Latitude 3540",
        catalogue.category_by_code(db_session, "poste_enseignant"),
    )

    def rooms(school: Ecole) -> list[Classroom]:
        return list(
            db_session.scalars(
                select(Classroom).filter_by(ecole_id=school.id).order_by(Classroom.id)
            )
        )

    def item(school: Ecole, room: Classroom, model: Any, serial: str) -> Any:
        return lifecycle.create_asset(
            db_session,
            ADMIN,
            where=lifecycle.Where(school.collectivite, school, room),
            model=model,
            status=AssetStatus.IN_SERVICE,
            fields=lifecycle.AssetFields(serial=serial),
        )

    screens = [item(ecole, r, screen, f"SPE75-{i}") for i, r in enumerate(rooms(ecole)[:4])]
    for i, room in enumerate(rooms(ecole)[:2]):
        item(ecole, room, laptop, f"LAT-{i}")
    item(other, rooms(other)[0], screen, "SPE75-OTHER")
    db_session.commit()
    return {
        "coll": ecole.collectivite_id,
        "ecole": ecole.id,
        "eni": eni.id,
        "screens": [(s.id, s.tag) for s in sorted(screens, key=lambda s: s.id)],
    }


def _positions(pdf: bytes) -> list[Image.Image]:
    """The first page rendered at DPI, cut into the sheet's positions as the maker
    specifies them (not as the app's format data says), in reading order."""
    cols, rows, width, height, left, top, pitch_x, pitch_y = SPECS[FORMAT]
    doc = pypdfium2.PdfDocument(pdf)
    try:
        assert len(doc) == 1
        page = doc[0]
        image = page.render(scale=DPI / 72, grayscale=True).to_pil().convert("L")
        page.close()
    finally:
        doc.close()
    px = DPI / 25.4  # pixels per millimetre
    cells = []
    for row in range(rows):
        for col in range(cols):
            x, y = left + col * pitch_x, top + row * pitch_y
            box = (x * px, y * px, (x + width) * px, (y + height) * px)
            cells.append(image.crop(tuple(round(v) for v in box)))
    return cells


def _blank(cell: Image.Image) -> bool:
    low, _high = cell.getextrema()
    return low >= 250  # nothing printed: no code, no text, no outline


def _codes(cell: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(cell, formats=zxingcpp.BarcodeFormat.QRCode)]


def test_a_technician_prints_a_schools_screen_labels_from_position_5(
    app: Flask,
    registry: dict[str, Any],
    db_session: Any,
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
    translate: Callable[..., str],
    url: Callable[[str], str],
) -> None:
    world = _seed(db_session)
    ecole, eni, screens = world["ecole"], world["eni"], world["screens"]
    sign_in(make_user("technicien", [("collectivite", world["coll"])]))

    # The school's equipment, narrowed to its interactive screens.
    page.locator('header nav a[href="/equipements"]').click()
    page.wait_for_url(url("/equipements"))
    check_a11y(page)
    filters = page.locator('main form[role="search"]')
    filters.locator("#ecole").select_option(str(ecole))
    filters.locator("#category").select_option(str(eni))
    filters.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/equipements\?.*ecole={ecole}&.*category={eni}"))
    check_a11y(page)
    listed = page.locator("main table.data tbody tr td:nth-child(2) code")
    expect(listed).to_have_text(sorted((tag for _id, tag in screens), reverse=True))

    # Their labels, from the fifth position of a partly used sheet.
    page.locator('main a[href^="/etiquettes?"]').click()
    page.wait_for_url(re.compile(rf"/etiquettes\?.*ecole={ecole}&.*category={eni}"))
    check_a11y(page)
    expect(page.locator("main p[role=status]")).to_contain_text(
        translate("%(num)s item selected.", plural="%(num)s items selected.", num=len(screens))
    )
    form = page.locator("main form[method=post]")
    form.locator("#format").select_option(FORMAT)
    form.locator("#start").fill(str(START))
    with page.expect_download() as download_info:
        form.locator('button[name=action][value="print"]').click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == f"etiquettes-{FORMAT}.pdf"
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")

    # Printed as the sheet expects: the used positions left blank, then one screen per
    # position in the order they were entered, each code carrying its own label URL.
    db_session.expire_all()
    issued = dict(
        db_session.execute(
            select(ScanToken.asset_id, ScanToken.token).where(ScanToken.revoked_at.is_(None))
        ).all()
    )
    # No BASE_URL in the tests: the codes carry the address the browser reached.
    expected = [tokens.scan_url(url(""), issued[i]) for i, _tag in screens]
    cells = _positions(pdf)
    for n, cell in enumerate(cells[: START - 1], start=1):
        assert _blank(cell), f"position {n} should stay blank"
        assert _codes(cell) == [], f"position {n} should carry no code"
    printed = cells[START - 1 : START - 1 + len(screens)]
    assert [_codes(cell) for cell in printed] == [[u] for u in expected]
    for n, cell in enumerate(cells[START - 1 + len(screens) :], start=START + len(screens)):
        assert _blank(cell), f"position {n} should stay blank"
    job = db_session.scalar(select(PrintJob))
    assert (job.format_code, job.skip, job.count) == (FORMAT, START - 1, len(screens))

    # The print is logged, ready to be printed again.
    page.locator('main a[href="/etiquettes/historique"]').click()
    page.wait_for_url(url("/etiquettes/historique"))
    check_a11y(page)
    logged = page.locator("main table.data tbody tr")
    expect(logged).to_have_count(1)
    expect(logged.locator("td").nth(2)).to_have_text(FORMAT)
    expect(logged.locator("td").nth(3)).to_have_text(str(len(screens)))

    # Scanning the code at position 5 opens the first screen's page.
    first_id, first_tag = screens[0]
    path = "/" + expected[0].split("://", 1)[1].split("/", 1)[1]  # '/Q/<token>'
    page.goto(path)
    page.wait_for_url(url(f"/equipements/{first_id}"))
    check_a11y(page)
    expect(page.locator("main h1 code")).to_have_text(first_tag)
