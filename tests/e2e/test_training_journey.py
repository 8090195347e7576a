"""A circonscription's trainer plans a session for two equipped schools, records it afterwards
with six named participants and their feedback; the IEN's auditor, who saw both schools
waiting for their accompaniment, sees them leave that list. Every page is checked with
axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from inventory.training.times import LOCAL_TZ
from tests.e2e.axe import check_a11y
from tests.training.builders import A1, A2, days_ago, in_service

PARTICIPANTS = [
    ("Anne Leroy", "teacher", A1),
    ("Bruno Caron", "teacher", A1),
    ("Chloé Diallo", "teacher", A1),
    ("Damien Morel", "teacher", A2),
    ("Élodie Faure", "teacher", A2),
    ("François Roux", "director", A2),
]
FEEDBACK = "Très concret ; les collègues veulent une séance sur les tablettes."


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts are not what this journey checks: hash their passwords cheaply."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    from inventory.auth import services as auth_services

    fast = partial(generate_password_hash, method="pbkdf2:sha256:1000")
    monkeypatch.setattr(auth_services, "generate_password_hash", fast)


def _waiting(page: Page) -> list[str]:
    """The UAIs listed as equipped but not accompanied on the coverage page."""
    return page.locator("#coverage-schools tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.uai)"
    )


def _sign_out(page: Page, url: Callable[[str], str]) -> None:
    page.locator('header nav form[action="/logout"] button[type=submit]').click()
    page.wait_for_url(url("/login"))


def test_trainer_plans_and_records_a_session_the_auditor_sees_the_coverage(
    app: Flask,
    database_url: str,
    registry: dict[str, Any],
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
    url: Callable[[str], str],
) -> None:
    schools = registry["schools"]  # uai -> (id, collectivite_id, circonscription_id)
    circo = schools[A1][2]
    assert schools[A2][2] == circo
    ids = {uai: schools[uai][0] for uai in (A1, A2)}
    today = datetime.now(LOCAL_TZ).date()  # the schools' day, whatever the machine's zone
    # Both schools got their equipment in service 100 days ago.
    engine = create_engine(database_url)
    with Session(engine) as db_session:
        for uai in (A1, A2):
            in_service(db_session, ids[uai], days_ago(100))
        from inventory.training.models import TrainingTopic

        topic = db_session.scalar(select(TrainingTopic.id).filter_by(code="prise_en_main_eni"))
    engine.dispose()
    trainer = make_user("formateur", [("circonscription", circo)])
    auditor = make_user("auditeur", [("circonscription", circo)])

    # The IEN's auditor sees both schools waiting beyond 60 days.
    sign_in(auditor)
    page.goto("/accompagnement/couverture")
    check_a11y(page)
    assert sorted(_waiting(page)) == sorted([A1, A2])
    expect(page.locator("#overdue-count")).to_have_text("2")
    expect(page.locator('main a[href="/accompagnement/nouvelle"]')).to_have_count(0)
    _sign_out(page, url)

    # The trainer plans yesterday's session for the two schools.
    sign_in(trainer)
    page.locator('header nav a[href="/accompagnement"]').click()
    page.wait_for_url(url("/accompagnement"))
    check_a11y(page)
    expect(page.locator('main a[href="/accompagnement/couverture"]')).to_be_visible()
    page.locator('main a[href="/accompagnement/nouvelle"]').click()
    page.wait_for_url(url("/accompagnement/nouvelle"))
    check_a11y(page)
    form = page.locator("main form.session-form")
    form.locator("#title").fill("Prise en main des écrans numériques — CP et CE1")
    form.locator("#day").fill((today - timedelta(days=1)).isoformat())
    form.locator("#start").fill("09:00")
    form.locator("#duration").fill("120")
    form.locator("#mode").select_option("on_site")
    form.locator("#format").select_option("workshop")
    form.locator("#place").fill("Salle informatique, école Victor Hugo")
    form.locator("#schools").select_option([str(ids[A1]), str(ids[A2])])
    form.locator(f'input[name="topics"][value="{topic}"]').check()
    # She is named as the trainer by default; a colleague from Canopé joins.
    expect(form.locator('input[name="trainer_users"]:checked')).to_have_count(1)
    form.locator("#external-0-name").fill("Paul Durand")
    form.locator("#external-0-organisation").fill("Canopé")
    form.locator('button[name="save"]').click()
    page.wait_for_url(re.compile(r"/accompagnement/\d+$"))
    check_a11y(page)
    session_path = page.url.removeprefix(url(""))
    expect(page.locator("main h1")).to_have_text("Prise en main des écrans numériques — CP et CE1")
    expect(page.locator("main .to-record")).to_be_visible()

    # Afterwards, she records it: counts, six named participants, feedback, a follow-up.
    page.locator(f'main a[href="{session_path}/compte-rendu"]').click()
    page.wait_for_url(url(f"{session_path}/compte-rendu"))
    check_a11y(page)
    record = page.locator("main form.record-form")
    record.locator("#teachers").fill("5")
    record.locator("#directors").fill("1")
    record.locator("#municipal_staff").fill("0")
    for i, (name, role, uai) in enumerate(PARTICIPANTS):
        record.locator(f"#attendees-{i}-name").fill(name)
        record.locator(f"#attendees-{i}-role").select_option(role)
        record.locator(f"#attendees-{i}-ecole").select_option(str(ids[uai]))
    record.locator("#satisfaction").select_option("4")
    record.locator("#feedback").fill(FEEDBACK)
    record.locator("#actions-0-text").fill("Séance sur les tablettes")
    record.locator("#actions-0-due_on").fill((today + timedelta(days=30)).isoformat())
    record.locator('button[name="save"]').click()
    page.wait_for_url(url(session_path))
    check_a11y(page)
    expect(page.locator("main .to-record")).to_have_count(0)
    participants = page.locator('section[aria-labelledby="record-title"] table.data tbody tr')
    expect(participants).to_have_count(len(PARTICIPANTS))
    expect(participants.locator("td:nth-child(1)")).to_have_text([p[0] for p in PARTICIPANTS])
    expect(page.locator("main")).to_contain_text(FEEDBACK)
    _sign_out(page, url)

    # The auditor: both schools have left the list of schools waiting.
    sign_in(auditor)
    page.goto("/accompagnement/couverture")
    check_a11y(page)
    assert _waiting(page) == []
    expect(page.locator("#overdue-count")).to_have_text("0")
    page.locator("#show").select_option("all")
    page.locator("main form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accompagnement/couverture\?.*show=all"))
    check_a11y(page)
    for uai in (A1, A2):
        row = page.locator(f'#coverage-schools tr[data-uai="{uai}"]')
        expect(row).to_have_attribute("data-delay", "99")
    # And the school's page shows the session.
    page.goto(f"/ecoles/{ids[A1]}")
    check_a11y(page)
    expect(page.locator("#training-title")).to_be_visible()
    expect(page.locator(f'main a[href="{session_path}"]')).to_be_visible()
