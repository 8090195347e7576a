"""An administrator reads what the socle asks from a school's page, raises the number of
teacher laptops each classroom needs in the current référentiel, and sees the school's
figure follow at once; a technician then records the ENT that covers the school, and its
'way to share work' is met. Every page is checked with axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from inventory.assets import services as assets
from inventory.assets.models import AssetStatus, WorkKind, WorkStatus
from inventory.orgs.models import Classroom, Ecole
from tests.e2e.axe import check_a11y
from tests.factories.registry import ADMIN

# Ecole élémentaire Mélanie Bonis, Villecresnes: five classrooms, CP to CM2, all targets.
UAI = "0940704E"


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def _school_at_the_socle(db_session: Any) -> dict[str, Any]:
    """Every classroom with a screen, a teacher laptop and a visio kit in service, and
    finished cabling works: the five classrooms meet the socle."""
    ecole = db_session.scalar(select(Ecole).filter_by(uai=UAI))
    rooms = db_session.scalars(
        select(Classroom).filter_by(ecole_id=ecole.id).order_by(Classroom.position, Classroom.id)
    ).all()
    for code in ("eni", "poste_enseignant", "captation"):
        model = assets.get_or_create_model(
            db_session, "Maker", f"Modèle {code}", assets.category_by_code(db_session, code)
        )
        for room in rooms:
            assets.create_asset(
                db_session,
                ADMIN,
                where=assets.Where(ecole.collectivite, ecole, room),
                model=model,
                status=AssetStatus.IN_SERVICE,
            )
    assets.save_work(
        db_session,
        ADMIN,
        None,
        ecole=ecole,
        fields=assets.WorkFields(kind=WorkKind.CABLING, title="Câblage", status=WorkStatus.DONE),
        classroom_ids=[r.id for r in rooms],
    )
    return {"ecole": ecole.id, "coll": ecole.collectivite_id, "rooms": [r.id for r in rooms]}


def _coverage(page: Page, translate: Callable[..., str], meeting: int, targets: int) -> None:
    expect(page.locator("main p.coverage strong")).to_have_text(
        translate(
            "%(num)s of %(targets)s target classrooms meets the socle numérique",
            plural="%(num)s of %(targets)s target classrooms meet the socle numérique",
            num=meeting,
            targets=str(targets),
        )
    )


def test_an_administrator_raises_a_minimum_and_the_school_follows(
    registry: dict[str, Any],
    db_session: Any,
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
    translate: Callable[..., str],
    url: Callable[[str], str],
) -> None:
    world = _school_at_the_socle(db_session)
    school_path = f"/ecoles/{world['ecole']}"
    sign_in(make_user("admin"))
    page.goto(school_path)
    check_a11y(page)
    _coverage(page, translate, 5, 5)
    sharing = page.locator("main ul.checks li", has_text="Partage des travaux")
    expect(sharing).to_have_class("check-unmet")

    # What the socle asks, from the school's panel.
    page.locator("main a", has_text=translate("What the socle asks")).first.click()
    page.wait_for_url(re.compile(r"/socle/referentiels/\d+$"))
    check_a11y(page)
    teacher = page.locator("main tr", has_text="Poste enseignant").first
    teacher.locator("a", has_text=translate("Edit %(label)s", label="Poste enseignant")).click()
    page.wait_for_url(re.compile(r"/socle/exigences/\d+$"))
    check_a11y(page)
    form = page.locator("main form[method=post]")
    form.locator("#minimum").fill("2")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/socle/referentiels/\d+$"))
    expect(page.locator("main .flash-success")).to_have_text(
        translate("Requirement «%(label)s» saved.", label="Poste enseignant")
    )
    check_a11y(page)

    # The school's figure follows at once: every room has one laptop of the two asked.
    page.goto(school_path)
    check_a11y(page)
    _coverage(page, translate, 0, 5)
    page.goto(f"/classes/{world['rooms'][0]}")
    check_a11y(page)
    expect(page.locator("main ul.checks li", has_text="Poste enseignant")).to_contain_text(
        translate("%(count)s / %(needed)s in service", count=1, needed=2)
    )

    # The catalogue, where a model's built-in capabilities are declared.
    page.goto("/equipements/modeles")
    check_a11y(page)
    page.locator("main a", has_text="Maker Modèle eni").click()
    page.wait_for_url(re.compile(r"/equipements/modeles/\d+$"))
    check_a11y(page)

    # A technician records the ENT that covers the school, from its page.
    page.context.clear_cookies()
    sign_in(make_user("technicien", [("collectivite", world["coll"])]))
    page.goto(school_path)
    page.locator(f'main a[href="/services-numeriques/nouveau?ecole={world["ecole"]}"]').click()
    page.wait_for_url(url(f"/services-numeriques/nouveau?ecole={world['ecole']}"))
    check_a11y(page)
    form = page.locator("main form[method=post]")
    form.locator("#kind").select_option("ent")
    form.locator("#name").fill("ENT Val-de-Marne")
    form.locator("#provider").fill("Département du Val-de-Marne")
    expect(form.locator(f'input[name=schools][value="{world["ecole"]}"]')).to_be_checked()
    form.locator("button[type=submit]").click()
    page.wait_for_url(url(school_path))
    check_a11y(page)
    expect(sharing).to_have_class("check-met")
    expect(sharing).to_contain_text("ENT Val-de-Marne")
    page.locator("main a", has_text="ENT Val-de-Marne").first.click()
    page.wait_for_url(re.compile(r"/services-numeriques/\d+$"))
    check_a11y(page)
