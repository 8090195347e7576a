"""A technician checks a classroom of a school by typing the tags on the labels: one item
is missing, one belongs to another room; they move it here from the results. Every page
is checked with axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from inventory.assets.models import Asset
from tests.e2e.axe import check_a11y
from tests.factories import build_world


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts are not what these tests are about: hash their passwords cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def test_a_technician_checks_a_room_and_moves_a_misplaced_item(
    registry: dict[str, Any],
    db_session: Any,
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
) -> None:
    world = build_world(db_session)
    ecole, room = world["ecole"], world["rooms"][0]
    here, elsewhere, missing = world["screen"], world["screen2"], world["laptop"]
    sign_in(make_user("technicien", [("collectivite", world["coll"])]))

    page.goto(f"/inventaires/nouveau?ecole={ecole.id}")
    check_a11y(page)
    expect(page.locator("select[name=ecole]")).to_have_value(str(ecole.id))
    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/inventaires/\d+$"))
    check_a11y(page)

    page.locator("select[name=classroom]").select_option(str(room.id))
    page.locator('form[action$="/salle"] button[type=submit]').click()
    page.wait_for_url(re.compile(rf"salle={room.id}"))
    check_a11y(page)

    code = page.locator("input[name=code]")
    for tag in (here.tag.lower(), elsewhere.tag):  # typed as read on the labels
        expect(code).to_be_focused()
        code.fill(tag)
        code.press("Enter")
        expect(page.locator("#scan table")).to_contain_text(tag.upper())
    expect(page.locator("#scan table tbody tr")).to_have_count(2)
    check_a11y(page)

    page.locator("main a", has_text=re.compile("résultats|results", re.I)).first.click()
    page.wait_for_url(re.compile(r"/resultats$"))
    check_a11y(page)
    expect(page.locator("#found")).to_contain_text(here.tag)
    expect(page.locator("#misplaced")).to_contain_text(elsewhere.tag)
    expect(page.locator("#missing")).to_contain_text(missing.tag)
    expect(page.locator("#missing")).not_to_contain_text(elsewhere.tag)

    page.locator("#misplaced button[type=submit]").click()
    expect(page.locator("#misplaced")).to_have_count(0)
    expect(page.locator("#found")).to_contain_text(elsewhere.tag)
    check_a11y(page)
    db_session.expire_all()
    moved = db_session.scalar(select(Asset).where(Asset.id == elsewhere.id))
    assert moved.classroom_id == room.id
