"""The DAN opens the dashboard, goes down to a classroom (département → collectivité → school
→ classroom), opens a list behind a figure, then downloads a table as XLSX and the two files
in the shape of the ministry's open data. Every page, charts and map included, is checked
with axe-core."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from flask import Flask
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from inventory.reports.opendata import (
    COLLECTIVITES_COLUMNS,
    ECOLES_COLUMNS,
    ECOLES_EXTENDED_COLUMNS,
)
from tests.e2e.axe import check_a11y


def _download(page: Page, link: Any) -> bytes:
    with page.expect_download() as info:
        link.click()
    download = info.value
    path = download.path()
    assert path is not None, download.failure()
    with open(path, "rb") as f:
        return f.read()


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_the_dan_follows_the_programme_down_to_a_classroom(
    app: Flask,
    programme: dict[str, Any],
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
    url: Callable[[str], str],
    translate: Callable[..., str],
) -> None:
    sign_in(make_user("auditeur", [("academie", programme["academie"])]))

    # The whole scope: the socle at a glance, the départements, the charts and the map.
    page.locator('header nav a[href="/tableau-de-bord"]').click()
    page.wait_for_url(url("/tableau-de-bord"))
    expect(page.locator("main progress.socle-progress")).to_be_visible()
    expect(page.locator('main svg[role="img"]#chart-installs > title')).to_have_count(1)
    expect(page.locator("main svg.school-map circle").first).to_be_attached()
    check_a11y(page)

    dep = f"/tableau-de-bord/departement/{programme['departement']}"
    page.locator(f'main table a[href="{dep}"]').click()
    page.wait_for_url(url(dep))
    check_a11y(page)

    coll = f"/tableau-de-bord/collectivite/{programme['collectivites']['creteil']}"
    page.locator(f'main table a[href="{coll}"]').first.click()
    page.wait_for_url(url(coll))
    expect(page.locator("h1")).to_contain_text("Créteil")
    check_a11y(page)

    # The table sorts on the server: the money columns, by aid, largest first.
    page.get_by_role("link", name=translate("Funding"), exact=True).first.click()
    page.wait_for_url(lambda u: "theme=money" in u)
    page.locator("main table.report-table thead th a", has_text=translate("Aid computed")).click()
    page.wait_for_url(lambda u: "sort_ecole=-aid" in u)
    expect(page.locator('main table.report-table th[aria-sort="descending"]')).to_have_count(1)
    check_a11y(page)

    school = f"/tableau-de-bord/ecole/{programme['schools']['a']}"
    page.locator(f'main table a[href="{school}"]').first.click()
    page.wait_for_url(url(school))
    check_a11y(page)

    room = f"/tableau-de-bord/classe/{programme['rooms']['a2']}"
    page.locator(f'main table a[href="{room}"]').first.click()
    page.wait_for_url(url(room))
    check_a11y(page)

    # A figure opens the list behind it, as long as the figure says.
    listing = f"{room}/liste/funded_not_in_service"
    page.locator(f'main a[href="{listing}"]').first.click()
    page.wait_for_url(url(listing))
    expect(page.locator("main table.data tbody tr")).to_have_count(1)
    check_a11y(page)

    # Back to the scope: a table as XLSX, then the two files for the ministry.
    page.locator("nav.breadcrumb a").first.click()
    page.wait_for_url(url("/tableau-de-bord"))
    section = page.locator("section", has=page.locator("#table-departement"))
    data = _download(page, section.locator('a[href*="format=xlsx"]'))
    sheet = [
        list(r) for r in load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True)
    ]
    assert len(sheet) == 2  # the header and the one département
    conventions = _csv(
        _download(page, page.locator('main a[href*="fr-en-aap-snee-collectivites?format=csv"]'))
    )
    assert tuple(conventions[0]) == COLLECTIVITES_COLUMNS and len(conventions) == 3
    schools = _csv(
        _download(page, page.locator('main a[href*="fr-en-aap-snee-ecoles?format=csv"]'))
    )
    assert tuple(schools[0]) == ECOLES_COLUMNS and len(schools) == 4
    extended = _csv(
        _download(page, page.locator('main a[href*="fr-en-aap-snee-ecoles-etendu?format=csv"]'))
    )
    assert tuple(extended[0]) == ECOLES_EXTENDED_COLUMNS and len(extended) == 4

    # What each field holds and where it comes from.
    page.get_by_role(
        "link", name=translate("What each field holds and where it comes from")
    ).click()
    page.wait_for_url(url("/tableau-de-bord/donnees-ouvertes"))
    expect(page.locator("main table code", has_text="montant_de_la_subvention")).to_have_count(1)
    expect(page.locator("main table code", has_text="socle_aide_calculee")).to_have_count(2)
    check_a11y(page)
