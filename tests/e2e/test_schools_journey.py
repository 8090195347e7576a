"""An académie auditor finds schools in the list, narrows it, opens one and reads its classrooms,
then switches the interface to English. Every page is checked with axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import ColumnElement, func, select

from tests.e2e.axe import check_a11y

SEARCH = "Victor Hugo"


def _academie_id(app: Flask) -> int:
    from inventory.extensions import db
    from inventory.orgs.models import Academie

    with app.app_context():
        ids = list(db.session.scalars(select(Academie.id)))
        db.session.remove()
    assert len(ids) == 1, ids  # the three communes are all in the académie de Créteil
    return ids[0]


def _schools(app: Flask, *where: ColumnElement[bool]) -> list[tuple[str, str]]:
    """(name, commune) of the schools matching ``where``, sorted, straight from the database."""
    from inventory.extensions import db
    from inventory.orgs.models import Commune, Ecole

    with app.app_context():
        rows = db.session.execute(
            select(Ecole.name, Commune.name)
            .join(Commune, Ecole.commune_id == Commune.id)
            .where(*where)
        ).all()
        db.session.remove()
    return sorted((name, commune) for name, commune in rows)


def _classroom_count(app: Flask, ecole_id: int) -> int:
    from inventory.extensions import db
    from inventory.orgs.models import Classroom

    with app.app_context():
        n = db.session.scalar(
            select(func.count()).select_from(Classroom).where(Classroom.ecole_id == ecole_id)
        )
        db.session.remove()
    return n or 0


def _listed(page: Page) -> list[tuple[str, str]]:
    """(name, commune) of the rows of the school table, sorted (the database's collation
    decides the order on the page)."""
    rows = page.locator("main table.data tbody tr")
    names = rows.locator("td:nth-child(1) a").all_inner_texts()
    communes = rows.locator("td:nth-child(3)").all_inner_texts()
    assert len(names) == len(communes), (names, communes)
    return sorted(zip((n.strip() for n in names), (c.strip() for c in communes), strict=True))


def test_find_a_school_and_read_its_classrooms(
    app: Flask,
    registry: dict[str, Any],
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
    url: Callable[[str], str],
) -> None:
    from inventory.orgs.models import Ecole, SchoolNature

    sign_in(make_user("auditeur", [("academie", _academie_id(app))]))
    check_a11y(page)

    # The whole scope, paginated.
    page.locator('header nav a[href="/ecoles"]').click()
    page.wait_for_url(url("/ecoles"))
    check_a11y(page)
    total = len(registry["schools"])
    assert total > app.config["PAGE_SIZE"], "the journey expects more than one page of schools"
    rows = page.locator("main table.data tbody tr")
    expect(rows).to_have_count(app.config["PAGE_SIZE"])
    expect(page.get_by_role("status")).to_contain_text(str(total))
    expect(page.locator('main nav a[rel="next"]')).to_be_visible()

    # Search by name.
    filters = page.get_by_role("search")
    q = filters.locator('input[name="q"]')
    q.fill(SEARCH)
    q.press("Enter")
    page.wait_for_url(re.compile(r"/ecoles\?(.*&)?q=Victor\+Hugo(&|$)"))
    check_a11y(page)
    found = _schools(app, Ecole.name.contains(SEARCH))
    assert 0 < len(found) < total
    expect(rows).to_have_count(len(found))
    assert _listed(page) == found
    expect(q).to_have_value(SEARCH)
    expect(page.locator('main nav a[rel="next"]')).to_have_count(0)

    # Filter by collectivité.
    fresnes = registry["collectivites"]["Fresnes"]
    q.fill("")
    filters.locator('select[name="collectivite"]').select_option(str(fresnes))
    filters.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/ecoles\?(.*&)?collectivite={fresnes}(&|$)"))
    check_a11y(page)
    in_fresnes = _schools(app, Ecole.collectivite_id == fresnes)
    assert 0 < len(in_fresnes) < total
    expect(rows).to_have_count(len(in_fresnes))
    assert _listed(page) == in_fresnes
    assert {commune for _, commune in in_fresnes} == {"Fresnes"}

    # ... and by nature: the collectivité stays selected.
    nature = filters.locator('select[name="nature"]')
    nature.select_option(SchoolNature.MATERNELLE.value)
    label = nature.locator("option:checked").inner_text().strip()
    filters.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/ecoles\?(.*&)?nature=maternelle(&|$)"))
    check_a11y(page)
    nurseries = _schools(
        app, Ecole.collectivite_id == fresnes, Ecole.nature == SchoolNature.MATERNELLE
    )
    assert 0 < len(nurseries) < len(in_fresnes)
    expect(rows).to_have_count(len(nurseries))
    assert _listed(page) == nurseries
    expect(rows.locator("td:nth-child(4)")).to_have_text([label] * len(nurseries))
    expect(filters.locator('select[name="collectivite"]')).to_have_value(str(fresnes))
    expect(nature).to_have_value(SchoolNature.MATERNELLE.value)

    # Open a school from the list: its facts and its classrooms.
    link = rows.first.locator("td:nth-child(1) a")
    name = link.inner_text().strip()
    link.click()
    page.wait_for_url(re.compile(r"/ecoles/\d+$"))
    check_a11y(page)
    school_url = page.url
    ecole_id = int(school_url.rsplit("/", 1)[1])
    expect(page.locator("main h1")).to_have_text(name)
    rooms = _classroom_count(app, ecole_id)
    assert rooms > 0, "estimate_classrooms gives every school classrooms"
    classrooms = page.locator("main table.data").first.locator("tbody tr")
    expect(classrooms).to_have_count(rooms)
    expect(classrooms.locator('td:nth-child(1) a[href^="/classes/"]')).to_have_count(rooms)
    # An auditor reads; the form to add a classroom is for technicians.
    expect(page.locator('main form[action$="/classes"]')).to_have_count(0)

    # French by default (Accept-Language: fr-FR); the header button switches to English
    # and comes back to the same page.
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "fr")
    page.locator("header").get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en-GB")
    expect(page).to_have_url(school_url)
    check_a11y(page)
    expect(page.locator("header").get_by_role("button", name="Français")).to_be_visible()
    expect(page.locator('header nav a[href="/ecoles"]')).to_have_text("Schools")
    expect(page.locator("main h1")).to_have_text(name)
    expect(classrooms).to_have_count(rooms)

    # The choice sticks for the rest of the session.
    page.locator('header nav a[href="/ecoles"]').click()
    page.wait_for_url(url("/ecoles"))
    expect(html).to_have_attribute("lang", "en-GB")
    expect(page.locator("main h1")).to_have_text("Schools")
    check_a11y(page)
