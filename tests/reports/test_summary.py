"""The dashboard summaries follow the change log: after each kind of change, refreshing
only what changed gives the rows a rebuild from the sources gives."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert, select

from inventory.assets import services as equip
from inventory.assets.models import Asset, AssetStatus, Placement
from inventory.grants import services as grants
from inventory.grants.models import Dossier, PaymentKind
from inventory.orgs.models import Ecole
from inventory.reports import services, summary
from inventory.reports.services import Level
from tests.factories.registry import ADMIN


def _sorted(data: dict) -> dict:
    """The data with its resolution times in order (a sum's list has no order of its own, nor
    has a school's: its tickets come in the order the database reads them)."""
    return {**data, "resolution": sorted(data["resolution"])}


def stored(session) -> tuple[dict, dict]:
    schools = {
        r.ecole_id: (r.in_service, r.first_in_service, _sorted(r.data))
        for r in session.scalars(select(summary.SchoolSummary))
    }
    depts = {
        r.departement_id: _sorted(r.data)
        for r in session.scalars(select(summary.DepartementSummary))
    }
    return schools, depts


def rebuilt(session) -> tuple[dict, dict]:
    """The rows a rebuild from the sources would store, without storing them."""
    schools = {
        r["ecole_id"]: (r["in_service"], r["first_in_service"], _sorted(r["data"]))
        for r in summary._school_rows(session, None)
    }
    # The départements' sums are taken from the stored school rows: check those first.
    depts = {d: data for d, data in summary._departement_rows(session, None).items()}
    return schools, {d: _sorted(data) for d, data in depts.items() if data["counts"]}


@pytest.fixture
def refreshes(monkeypatch):
    """What each refresh was asked to compute: None for everything, else the schools."""
    calls: list[list[int] | None] = []
    real = summary.refresh

    def spy(session, ecole_ids):
        calls.append(None if ecole_ids is None else list(ecole_ids))
        return real(session, ecole_ids)

    monkeypatch.setattr(summary, "refresh", spy)
    return calls


def check(db_session, refreshes, *, expect_schools: set[int] | None) -> None:
    db_session.expire_all()
    summary.bring_up_to_date(db_session)
    if expect_schools is None:
        assert refreshes[-1] is None
    else:
        assert refreshes[-1] is not None and expect_schools <= set(refreshes[-1])
    got_schools, got_depts = stored(db_session)
    want_schools, want_depts = rebuilt(db_session)
    assert got_schools == want_schools
    assert got_depts == want_depts


def test_each_change_refreshes_its_schools_only(app, programme, db_session, refreshes):
    a, b, c = (db_session.get(Ecole, programme["schools"][k]) for k in "abc")
    summary.bring_up_to_date(db_session)
    assert refreshes == [None]  # the first time: everything
    # Nothing changed: nothing computed.
    summary.bring_up_to_date(db_session)
    assert len(refreshes) == 1

    # An item moved from A to B: both schools change.
    asset = db_session.get(Asset, programme["assets"]["tni_c"])
    tablet = db_session.scalars(
        select(Asset).where(Asset.ecole_id == a.id, Asset.classroom_id.is_(None))
    ).first()
    equip.move_asset(db_session, ADMIN, tablet, equip.Where(b.collectivite, b, None))
    check(db_session, refreshes, expect_schools={a.id, b.id})
    assert len(refreshes[-1]) < db_session.query(Ecole).count()

    # A status change (under repair) and back.
    equip.change_status(db_session, ADMIN, asset, AssetStatus.IN_SERVICE)
    check(db_session, refreshes, expect_schools={c.id})

    # A payment received: every school of the dossier.
    dossier = db_session.get(Dossier, programme["dossiers"]["creteil"])
    grants.record_payment(
        db_session,
        ADMIN,
        dossier,
        grants.PaymentFields(
            kind=PaymentKind.INSTALMENT, received_on=date(2022, 9, 1), received_cents=12_345
        ),
    )
    check(db_session, refreshes, expect_schools={a.id, b.id})


def test_rows_written_without_the_change_log_rebuild_everything(
    app,
    programme,
    db_session,
    refreshes,
):
    summary.bring_up_to_date(db_session)
    a = db_session.get(Ecole, programme["schools"]["a"])
    model_id = db_session.scalar(select(Asset.model_id).where(Asset.ecole_id == a.id))
    category_id = db_session.scalar(select(Asset.category_id).where(Asset.ecole_id == a.id))
    db_session.execute(
        insert(Asset).values(
            tag="BULK-00001",
            model_id=model_id,
            category_id=category_id,
            collectivite_id=a.collectivite_id,
            ecole_id=a.id,
            placement=Placement.SCHOOL,
            status=AssetStatus.IN_SERVICE,
            version=1,
        )
    )
    db_session.commit()
    check(db_session, refreshes, expect_schools=None)


def test_the_dashboards_read_the_summaries(app, programme, db_session):
    """A change shows on the national and académie pages, which add up département rows."""
    from inventory.extensions import db

    with app.app_context():
        before = services.dashboard(db.session, ADMIN, Level.SCOPE).totals["items"]
        db.session.remove()
    a = db_session.get(Ecole, programme["schools"]["a"])
    room = None
    cat = equip.category_by_code(db_session, "vp")
    model = equip.get_or_create_model(db_session, "Epson", "EB-1", cat)
    equip.create_asset(
        db_session,
        ADMIN,
        where=equip.Where(a.collectivite, a, room),
        model=model,
        status=AssetStatus.DELIVERED,
        fields=equip.AssetFields(),
    )
    with app.app_context():
        after = services.dashboard(db.session, ADMIN, Level.SCOPE)
        assert after.totals["items"] == before + 1
        assert sum(r.facts["items"] for r in after.tables[0].rows) == before + 1
        assert any(m.name == "EB-1" for m in after.models)


def test_the_refresh_command(app, programme, db_session):
    """After a bulk load, one command computes the summaries; run again, it has nothing to do."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "refresh"])
    assert result.exit_code == 0, result.output
    schools = db_session.query(Ecole).count()
    assert f"Summaries refreshed: {schools} school(s)." in result.output
    assert db_session.query(summary.SchoolSummary).count() == schools
    again = runner.invoke(args=["reports", "refresh"])
    assert "Summaries already up to date." in again.output
