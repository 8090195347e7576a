"""A technician sorts the equipment list by serial number from the keyboard, ticks the
page's rows from the header, prints the labels of the ticked rows, then saves the list's
filters under a name, applies them from another list and deletes them. Every page is
checked with axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import AssetStatus
from inventory.orgs.models import Classroom, Ecole
from tests.conftest import ADMIN
from tests.e2e.axe import check_a11y

UAI = "0940176F"  # Robert Doisneau, Fresnes
SERIALS = ["SN-C", None, "SN-A", "SN-B", None]


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts are not what this test is about: hash their passwords cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def _seed(db_session: Any) -> dict[str, Any]:
    """Five screens of one school, two without a serial number."""
    ecole = db_session.scalar(select(Ecole).filter_by(uai=UAI))
    room = db_session.scalar(select(Classroom).filter_by(ecole_id=ecole.id).order_by(Classroom.id))
    eni = catalogue.category_by_code(db_session, "eni")
    model = catalogue.get_or_create_model(db_session, "Speechi", "SPE-75", eni)
    items = [
        lifecycle.create_asset(
            db_session,
            ADMIN,
            where=lifecycle.Where(ecole.collectivite, ecole, room),
            model=model,
            status=AssetStatus.IN_SERVICE,
            fields=lifecycle.AssetFields(serial=serial),
        )
        for serial in SERIALS
    ]
    db_session.commit()
    return {"coll": ecole.collectivite_id, "items": [(a.id, a.tag, a.serial) for a in items]}


def test_sort_tick_print_and_save_the_filters_of_the_equipment_list(
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
    sign_in(make_user("technicien", [("collectivite", world["coll"])]))
    page.locator('header nav a[href="/equipements"]').click()
    page.wait_for_url(url("/equipements"))
    check_a11y(page)

    # Sorted by serial number, from the keyboard: the header's link, then again reversed.
    serial_header = page.locator("main table.data thead th").nth(4)
    serial_header.locator("a").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/equipements\?sort=serial$"))
    expect(serial_header).to_have_attribute("aria-sort", "ascending")
    check_a11y(page)
    by_serial = sorted(world["items"], key=lambda i: (i[2] is None, i[2] or "", i[0]))
    tags = page.locator("main table.data tbody td:nth-child(2) code")
    expect(tags).to_have_text([tag for _id, tag, _serial in by_serial])
    serial_header.locator("a").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/equipements\?sort=-serial$"))
    expect(serial_header).to_have_attribute("aria-sort", "descending")
    expect(tags).to_have_text([tag for _id, tag, _serial in reversed(by_serial)])

    # Every row of the page ticked from the header (with the space bar), one unticked.
    master = page.locator("#select-page")
    expect(master).to_be_visible()
    master.focus()
    page.keyboard.press("Space")
    rows = page.locator('main table.data tbody input[name="ids"]')
    for n in range(rows.count()):
        expect(rows.nth(n)).to_be_checked()
    count = page.locator("#ticked-count")
    expect(count).to_have_text(translate("{count} rows ticked.").replace("{count}", "5"))
    rows.nth(0).focus()
    page.keyboard.press("Space")
    expect(count).to_have_text(translate("{count} rows ticked.").replace("{count}", "4"))
    assert master.evaluate("el => el.indeterminate")
    check_a11y(page)

    # The labels of the four ticked rows.
    page.get_by_role("button", name=translate("Print the labels of the ticked rows")).click()
    page.wait_for_url(re.compile(r"/etiquettes\?ids="))
    expect(page.locator("main p[role=status]")).to_contain_text(
        translate("%(num)s item selected.", plural="%(num)s items selected.", num=4)
    )
    check_a11y(page)

    # The items without a serial number, saved under a name.
    page.goto("/equipements?sort=serial")
    filters = page.locator('main form[role="search"]')
    filters.locator("#missing_serial").check()
    filters.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"missing_serial=y"))
    expect(tags).to_have_count(2)
    saving = page.locator("main section.saved-filters")
    saving.get_by_label(translate("Name of these filters")).fill("Sans numéro de série")
    saving.get_by_role("button", name=translate("Save these filters")).click()
    expect(page.locator("body")).to_contain_text(
        translate("Filters «%(name)s» saved.", name="Sans numéro de série")
    )
    check_a11y(page)

    # Applied from the whole list, in one click: the same rows in the same order.
    page.goto("/equipements")
    expect(tags).to_have_count(5)
    saved = page.locator("main section.saved-filters").get_by_role(
        "link", name="Sans numéro de série"
    )
    saved.click()
    page.wait_for_url(re.compile(r"missing_serial=y"))
    expect(tags).to_have_count(2)
    expect(page.locator("main table.data thead th").nth(4)).to_have_attribute(
        "aria-sort", "ascending"
    )
    check_a11y(page)

    # And deleted.
    page.locator("main section.saved-filters").get_by_role(
        "button", name=re.compile("Sans numéro de série")
    ).click()
    expect(page.locator("body")).to_contain_text(
        translate("Filters «%(name)s» deleted.", name="Sans numéro de série")
    )
    expect(page.locator("main section.saved-filters a")).to_have_count(0)
    check_a11y(page)
