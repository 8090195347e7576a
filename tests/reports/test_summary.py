"""The dashboard summaries follow the stale marks: each kind of change marks its schools in
its own transaction, and refreshing only what is marked gives the rows a rebuild from the
sources gives."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, insert, select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import Asset, AssetStatus, Placement, SocleRequirement
from inventory.core.derived import StaleMark
from inventory.core.policy import Role
from inventory.extensions import db
from inventory.grants.models import Dossier, PaymentKind
from inventory.grants.payments import PaymentFields, record_payment
from inventory.orgs.models import Ecole
from inventory.reports import refresh, stale, summary
from inventory.reports.dashboard import dashboard
from inventory.reports.levels import Level
from tests.conftest import ADMIN
from tests.reports.builders import rebuilt, stored


def marked_schools(session) -> set[int] | None:
    """The schools the pending marks name (None: every school)."""
    marks = session.execute(select(StaleMark.kind, StaleMark.key)).all()
    return stale.schools_named(session, [(k, v) for k, v in marks])


@pytest.fixture
def refreshes(monkeypatch):
    """What each refresh was asked to compute: None for everything, else the schools."""
    calls: list[list[int] | None] = []
    real_refresh, real_rebuild = refresh._refresh, refresh._rebuild

    def spy_refresh(session, ecole_ids, depts):
        calls.append(list(ecole_ids))
        return real_refresh(session, ecole_ids, depts)

    def spy_rebuild(session):
        calls.append(None)
        return real_rebuild(session)

    monkeypatch.setattr(refresh, "_refresh", spy_refresh)
    monkeypatch.setattr(refresh, "_rebuild", spy_rebuild)
    return calls


def check(db_session, refreshes, *, expect_schools: set[int] | None) -> None:
    db_session.expire_all()
    assert marked_schools(db_session) == expect_schools
    refresh.refresh_stale(db_session)
    assert refreshes[-1] == (None if expect_schools is None else sorted(expect_schools))
    assert db_session.scalar(select(func.count()).select_from(StaleMark)) == 0
    got_schools, got_depts = stored(db_session)
    want_schools, want_depts = rebuilt(db_session)
    assert got_schools == want_schools
    assert got_depts == want_depts


def test_each_change_marks_and_refreshes_its_schools_only(app, programme, db_session, refreshes):
    a, b, c = (db_session.get(Ecole, programme["schools"][k]) for k in "abc")
    refresh.refresh_stale(db_session)
    assert refreshes == [None]  # the first time: everything
    # Nothing changed: nothing computed.
    assert refresh.refresh_stale(db_session) is None
    assert len(refreshes) == 1

    # An item moved from A to B: both schools change.
    tablet = db_session.scalars(
        select(Asset).where(Asset.ecole_id == a.id, Asset.classroom_id.is_(None))
    ).first()
    lifecycle.move_asset(db_session, ADMIN, tablet, lifecycle.Where(b.collectivite, b, None))
    check(db_session, refreshes, expect_schools={a.id, b.id})
    assert len(refreshes[-1]) < db_session.query(Ecole).count()

    # A status change.
    asset = db_session.get(Asset, programme["assets"]["tni_c"])
    lifecycle.change_status(db_session, ADMIN, asset, AssetStatus.IN_SERVICE)
    check(db_session, refreshes, expect_schools={c.id})

    # A payment received: every school of the dossier.
    dossier = db_session.get(Dossier, programme["dossiers"]["creteil"])
    covered = {s.ecole_id for s in dossier.schools}
    record_payment(
        db_session,
        ADMIN,
        dossier,
        PaymentFields(
            kind=PaymentKind.INSTALMENT, received_on=date(2022, 9, 1), received_cents=12_345
        ),
    )
    assert {a.id, b.id} <= covered
    check(db_session, refreshes, expect_schools=covered)


def test_a_change_rolled_back_leaves_no_mark(app, programme, db_session):
    refresh.refresh_stale(db_session)
    asset = db_session.get(Asset, programme["assets"]["tni_c"])
    asset.status = AssetStatus.UNDER_REPAIR
    db_session.flush()
    # Written in the change's transaction…
    assert marked_schools(db_session) == {asset.ecole_id}
    db_session.rollback()
    # …and gone with it.
    assert db_session.scalar(select(func.count()).select_from(StaleMark)) == 0


def test_rows_written_in_bulk_mark_their_schools(app, programme, db_session, refreshes):
    refresh.refresh_stale(db_session)
    a = db_session.get(Ecole, programme["schools"]["a"])
    model_id = db_session.scalar(select(Asset.model_id).where(Asset.ecole_id == a.id))
    category_id = db_session.scalar(select(Asset.category_id).where(Asset.ecole_id == a.id))
    db_session.execute(
        insert(Asset),
        [
            dict(
                tag=f"BULK-0000{i}",
                model_id=model_id,
                category_id=category_id,
                collectivite_id=a.collectivite_id,
                ecole_id=a.id,
                placement=Placement.SCHOOL,
                status=AssetStatus.IN_SERVICE,
                version=1,
            )
            for i in range(3)
        ],
    )
    db_session.commit()
    check(db_session, refreshes, expect_schools={a.id})


def test_a_requirement_changed_marks_every_school(app, programme, db_session, refreshes):
    refresh.refresh_stale(db_session)
    requirement = db_session.scalars(select(SocleRequirement).order_by(SocleRequirement.id)).first()
    requirement.minimum = (requirement.minimum or 1) + 1
    db_session.commit()
    check(db_session, refreshes, expect_schools=None)


def test_the_next_dashboard_read_refreshes_the_marked_schools(app, programme, db_session, login_as):
    """Through the HTTP route: an edit marks its school; the next read of the dashboard
    refreshes it (and only the marks are gone), and shows the change."""
    client = login_as(Role.ADMIN)
    assert client.get("/tableau-de-bord").status_code == 200
    a = db_session.get(Ecole, programme["schools"]["a"])
    cat = catalogue.category_by_code(db_session, "vp")
    model = catalogue.get_or_create_model(db_session, "Epson", "EB-1", cat)
    lifecycle.create_asset(
        db_session,
        ADMIN,
        where=lifecycle.Where(a.collectivite, a, None),
        model=model,
        status=AssetStatus.DELIVERED,
        fields=lifecycle.AssetFields(),
    )
    assert marked_schools(db_session) == {a.id}
    stored_a = db_session.get(summary.SchoolSummary, a.id)
    items_before = stored_a.data["counts"].get("items", 0)
    db_session.rollback()

    page = client.get("/tableau-de-bord?format=csv&table=indicateurs")
    assert page.status_code == 200
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(StaleMark)) == 0
    assert db_session.get(summary.SchoolSummary, a.id).data["counts"]["items"] == items_before + 1
    assert stored(db_session) == rebuilt(db_session)


def test_the_dashboards_read_the_summaries(app, programme, db_session):
    """A change shows on the national and académie pages, which add up département rows."""
    with app.app_context():
        before = dashboard(db.session, ADMIN, Level.SCOPE).totals["items"]
        db.session.remove()
    a = db_session.get(Ecole, programme["schools"]["a"])
    cat = catalogue.category_by_code(db_session, "vp")
    model = catalogue.get_or_create_model(db_session, "Epson", "EB-1", cat)
    lifecycle.create_asset(
        db_session,
        ADMIN,
        where=lifecycle.Where(a.collectivite, a, None),
        model=model,
        status=AssetStatus.DELIVERED,
        fields=lifecycle.AssetFields(),
    )
    with app.app_context():
        after = dashboard(db.session, ADMIN, Level.SCOPE)
        assert after.totals["items"] == before + 1
        assert sum(r.facts["items"] for r in after.tables[0].rows) == before + 1
        assert any(m.name == "EB-1" for m in after.models)
        db.session.remove()


def test_the_refresh_command(app, programme, db_session):
    """The first time, one command computes every summary; run again, it has nothing to do;
    with --all, it computes them all again."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "refresh"])
    assert result.exit_code == 0, result.output
    schools = db_session.query(Ecole).count()
    assert f"Summaries refreshed: {schools} school(s)." in result.output
    assert db_session.query(summary.SchoolSummary).count() == schools
    again = runner.invoke(args=["reports", "refresh"])
    assert "Summaries already up to date." in again.output
    everything = runner.invoke(args=["reports", "refresh", "--all"])
    assert f"Summaries refreshed: {schools} school(s)." in everything.output
