"""Coverage: when the schools got their first item in service and their first accompaniment."""

from __future__ import annotations

import re

from sqlalchemy import select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import AssetStatus
from inventory.orgs.models import Ecole
from inventory.training.coverage import CoverageFilters, coverage_report
from inventory.training.sessions import cancel_session
from tests.conftest import ADMIN
from tests.training.builders import A1, A2, A3, B1, client_for, days_ago, in_service, session_at

# Two more elementary schools of the circonscription Créteil 1.
A4, A5 = "0941733Y", "0941541P"


def listed(client, query=""):
    """(uai, delay, waiting) of the school rows of the coverage page, in page order."""
    response = client.get(f"/accompagnement/couverture{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = re.findall(r'<tr data-uai="(\w+)" data-delay="(-?\d*)" data-waiting="(\d*)">', html)
    overdue = re.search(r'<strong id="overdue-count">(\d+)</strong>', html).group(1)
    return [(u, int(d) if d else None, int(w) if w else None) for u, d, w in rows], int(overdue)


def test_coverage_of_the_equipped_schools(app, world, registry, db_session):
    ids = {uai: registry["schools"][uai][0] for uai in (A1, A2, A3, A4, A5, B1)}
    # A1: equipped 100 days ago (a second item later changes nothing), never trained; a
    # planned and a cancelled session do not count.
    in_service(db_session, ids[A1], days_ago(100))
    in_service(db_session, ids[A1], days_ago(20), category="vpi")
    session_at(db_session, [ids[A1]], days_ago(-3))
    cancelled = session_at(db_session, [ids[A1]], days_ago(50))
    cancel_session(db_session, ADMIN, cancelled, version=cancelled.version)
    # A2: trained 20 days before its equipment went into service: accompanied, delay -10.
    in_service(db_session, ids[A2], days_ago(10))
    session_at(db_session, [ids[A2]], days_ago(20), held=True)
    # A3 and A4: one session for both.
    in_service(db_session, ids[A3], days_ago(30))
    in_service(db_session, ids[A4], days_ago(50))
    session_at(db_session, [ids[A3], ids[A4]], days_ago(25), held=True)
    # A5: equipped 40 days ago, waiting, not yet beyond 60 days.
    in_service(db_session, ids[A5], days_ago(40))
    # An item delivered but never in service does not make a school equipped.
    room = db_session.scalar(select(Ecole).where(Ecole.id == ids[B1])).classrooms[0]
    lifecycle.create_asset(
        db_session,
        ADMIN,
        where=lifecycle.Where(room.ecole.collectivite, room.ecole, room),
        model=catalogue.get_or_create_model(
            db_session, "Speechi", "ENI", catalogue.category_by_code(db_session, "eni")
        ),
        status=AssetStatus.DELIVERED,
    )
    # B1 (another circonscription): equipped 200 days ago, never trained.
    b_item = in_service(db_session, ids[B1], days_ago(200), category="vpi")
    assert b_item.status is AssetStatus.IN_SERVICE

    auditor = client_for(app, world.users["auditor_a"])
    # By default every school waiting is listed, also A5, not beyond the delay yet.
    rows, overdue = listed(auditor)
    assert rows == [(A1, None, 100), (A5, None, 40)] and overdue == 1
    rows, overdue = listed(auditor, "?show=overdue")
    assert rows == [(A1, None, 100)] and overdue == 1
    # The totals' own lists: the equipped schools, and those equipped and accompanied.
    rows, _ = listed(auditor, "?show=equipped&sort=name")
    assert sorted(r[0] for r in rows) == sorted([A1, A2, A3, A4, A5])
    rows, _ = listed(auditor, "?show=accompanied")
    assert sorted(r[0] for r in rows) == sorted([A2, A3, A4])
    rows, overdue = listed(auditor, "?days=30&show=overdue")
    assert rows == [(A1, None, 100), (A5, None, 40)] and overdue == 2
    assert listed(auditor, "?days=abc&circonscription=x") == listed(auditor)  # default 60
    rows, _ = listed(auditor, "?days=30&sort=-waiting")
    assert [r[0] for r in rows] == [A5, A1]
    rows, _ = listed(auditor, "?show=waiting")
    assert [r[0] for r in rows] == [A1, A5]

    everything, _ = listed(auditor, "?show=all&sort=delay")
    by_uai = {uai: (delay, waiting) for uai, delay, waiting in everything}
    assert by_uai[A2] == (-10, None)  # trained before the installation: accompanied
    assert by_uai[A3] == (5, None) and by_uai[A4] == (25, None)
    assert B1 not in by_uai  # out of the auditor's scope
    assert [u for u, d, _w in everything if d is not None] == [A4, A3, A2]
    assert len(everything) == 15  # the whole circonscription, equipped or not

    # The default delay comes from the configuration.
    app.config["TRAINING_DELAY_DAYS"] = 30
    rows, _ = listed(auditor, "?show=overdue")
    assert [r[0] for r in rows] == [A1, A5]

    # An administrator sees both circonscriptions; the per-group tables add up.
    admin = client_for(app, world.users["admin"])
    rows, overdue = listed(admin, "?days=60&show=overdue")
    assert [r[0] for r in rows] == [B1, A1] and overdue == 2
    report = coverage_report(db_session, ADMIN, CoverageFilters(days=60))
    circos = {g.key: g for g in report.by_circonscription}
    a = circos[world.circo_a]
    assert (a.equipped, a.equipped_accompanied, a.waiting, a.overdue) == (5, 3, 2, 1)
    assert a.median_delay == 5
    assert circos[world.circo_b].overdue == 1
    assert report.total.schools == sum(g.schools for g in report.by_circonscription)
    # Filtering on a circonscription.
    rows, _ = listed(admin, f"?days=60&circonscription={world.circo_b}")
    assert [r[0] for r in rows] == [B1]


def test_coverage_is_empty_for_a_school_without_equipment(app, world):
    rows, overdue = listed(client_for(app, world.users["municipal_a"]), "?show=waiting")
    assert rows == [] and overdue == 0
