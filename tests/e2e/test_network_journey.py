"""A municipal technician defines a school's network: a VLAN, then the pedagogical prefix
in it, gives the school's new ENI the next free address (a DHCP reservation with the
screen's MAC), sees the prefix's use change, and exports the Kea file, which holds the
reservation. Every page is checked with axe-core."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import Asset
from inventory.orgs.models import Ecole
from tests.conftest import ADMIN
from tests.e2e.axe import check_a11y
from tests.factories import hash_passwords_cheaply

UAI = "0940704E"  # Ecole élémentaire Mélanie Bonis, Villecresnes
MAC = "3c:22:fb:12:34:56"


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    hash_passwords_cheaply(monkeypatch)


def test_a_technician_plans_a_school_network_and_exports_its_dhcp_reservations(
    registry: dict[str, Any],
    db_session: Any,
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
    translate: Callable[..., str],
    url: Callable[[str], str],
) -> None:
    ecole = db_session.scalar(select(Ecole).filter_by(uai=UAI))
    room = ecole.classrooms[0]
    model = catalogue.get_or_create_model(
        db_session, "Speechi", "SpeechiTouch 75", catalogue.category_by_code(db_session, "eni")
    )
    eni = lifecycle.create_asset(
        db_session, ADMIN, where=lifecycle.Where(ecole.collectivite, ecole, room), model=model
    )
    eni.mac = MAC
    db_session.commit()
    eni_id, tag = eni.id, eni.tag
    sign_in(make_user("technicien", [("collectivite", ecole.collectivite_id)]))

    page.goto(f"/ecoles/{ecole.id}")
    check_a11y(page)
    page.locator(f'main a[href="/ecoles/{ecole.id}/reseau"]').click()
    page.wait_for_url(url(f"/ecoles/{ecole.id}/reseau"))
    check_a11y(page)

    vlan = page.locator(f'main form[action="/ecoles/{ecole.id}/reseau/vlans"]')
    vlan.locator("#vid").fill("10")
    vlan.locator("#name").fill("Pédagogie")
    vlan.locator("button[type=submit]").click()
    page.wait_for_url(url(f"/ecoles/{ecole.id}/reseau"))
    prefix = page.locator(f'main form[action="/ecoles/{ecole.id}/reseau/prefixes"]')
    prefix.locator("#cidr").fill("10.94.12.0/24")
    prefix.locator("#role").select_option("pedagogique")
    prefix.locator("#vlan_id").select_option(label="10 Pédagogie")
    prefix.locator("#gateway").fill("10.94.12.1")
    prefix.locator("#dns").fill("10.94.0.53")
    prefix.locator("button[type=submit]").click()
    page.wait_for_url(url(f"/ecoles/{ecole.id}/reseau"))
    check_a11y(page)
    before = translate(
        "%(used)s of %(size)s used (%(percent)s %%)", used="1", size="254", percent=0
    )
    expect(page.locator("main table.data tbody tr", has_text="10.94.12.0/24")).to_contain_text(
        before
    )

    page.locator('main a:has-text("10.94.12.0/24")').click()
    check_a11y(page)
    give = page.locator('main form[action$="/adresses"]')
    give.locator("#status").select_option("dhcp")
    give.locator("#asset_id").select_option(label=tag)
    give.locator("#hostname").fill("eni-cp")
    give.locator("button[type=submit]").click()
    expect(page.locator("#usage")).to_have_text(
        translate("%(used)s of %(size)s used (%(percent)s %%)", used="2", size="254", percent=1)
    )
    check_a11y(page)
    expect(page.locator("main table.data tbody tr", has_text="10.94.12.2")).to_contain_text(tag)
    db_session.expire_all()
    assert db_session.get(Asset, eni_id).ip == "10.94.12.2"

    page.locator(f'main nav a[href="/ecoles/{ecole.id}/reseau"]').click()
    page.wait_for_url(url(f"/ecoles/{ecole.id}/reseau"))
    with page.expect_download() as download:
        page.locator(f'main a[href="/ecoles/{ecole.id}/reseau/kea.json"]').click()
    kea = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    (subnet,) = kea["Dhcp4"]["subnet4"]
    assert subnet["subnet"] == "10.94.12.0/24"
    assert subnet["reservations"] == [
        {"hw-address": MAC, "ip-address": "10.94.12.2", "hostname": "eni-cp"}
    ]
