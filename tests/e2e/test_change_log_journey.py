"""An edit made in the browser shows in the change log with its old and new values."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.axe import check_a11y


def test_a_renamed_classroom_shows_before_and_after(page, app, registry, make_user, sign_in, url):
    from inventory.extensions import db
    from inventory.orgs.models import Classroom

    ecole_id, coll_id, _ = registry["schools"]["0940176F"]
    with app.app_context():
        room = db.session.scalar(
            select(Classroom).where(Classroom.ecole_id == ecole_id).order_by(Classroom.id)
        )
        room_id, old_name = room.id, room.name
        db.session.remove()
    sign_in(make_user("technicien", [("collectivite", coll_id)]))
    page.goto(f"/classes/{room_id}")
    check_a11y(page)
    form = page.locator("main form[method=post]").first
    form.locator("input[name=name]").fill("Salle des CM2")
    form.locator("button[type=submit]").first.click()
    expect(page).to_have_url(url(f"/ecoles/{ecole_id}"))
    history = page.locator("section.history")
    expect(history).to_contain_text(old_name)
    expect(history).to_contain_text("Salle des CM2")
    check_a11y(page)
    page.goto("/journal?type=classrooms")
    row = page.locator("table.data tbody tr").filter(has_text="Salle des CM2").first
    expect(row).to_contain_text(old_name)
    expect(row).to_contain_text("→")
    check_a11y(page)
