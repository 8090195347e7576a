"""Dashboards read by several requests at once, right after an edit: each request finds
the school's summary stale, and they refresh it together. None may fail (it used to: two
requests re-inserting the same school's row, a duplicate key, a 500), and all of them show
the same figures. On the test database's engine: an SQLite file, or PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.assets import lifecycle
from inventory.assets.models import Asset, AssetStatus
from inventory.core.derived import StaleMark
from inventory.core.policy import Role
from inventory.orgs.models import Ecole
from inventory.reports import refresh, summary
from tests.conftest import ADMIN, login
from tests.reports.builders import rebuilt, stored

URLS = (
    "/tableau-de-bord?format=csv&table=indicateurs",
    "/tableau-de-bord?format=csv&table=academie",
)


def read_at_once(app, email: str, readers: int) -> list[tuple[int, bytes]]:
    """``readers`` signed-in clients, each on its own thread, GET the dashboards' exports
    at the same instant; returns each answer's (status, body), in the clients' order."""
    clients = []
    for _ in range(readers):
        client = app.test_client()
        assert login(client, email).status_code == 302
        clients.append(client)
    barrier = threading.Barrier(readers)
    answers: list[list[tuple[int, bytes]]] = [[] for _ in range(readers)]
    errors: list[BaseException] = []

    def read(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            for url in URLS:
                response = clients[i].get(url)
                answers[i].append((response.status_code, response.get_data()))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    return [answer for per_client in answers for answer in per_client]


def toggle(db_session, asset_id: int) -> None:
    """An edit through the equipment service: the item under repair, or back in service."""
    asset = db_session.get(Asset, asset_id)
    to = (
        AssetStatus.UNDER_REPAIR
        if asset.status == AssetStatus.IN_SERVICE
        else AssetStatus.IN_SERVICE
    )
    lifecycle.change_status(db_session, ADMIN, asset, to)


@pytest.mark.parametrize("readers", [3, 8])
def test_simultaneous_reads_after_an_edit(app, programme, db_session, make_user, readers):
    email = make_user(Role.ADMIN)
    # The first read builds every summary; then each round edits and reads at once.
    first = read_at_once(app, email, 1)
    assert all(status == 200 for status, _body in first)
    asset_id = programme["assets"]["tni_c"]
    for _round in range(2):
        toggle(db_session, asset_id)
        db_session.expire_all()
        assert db_session.scalar(select(func.count()).select_from(StaleMark)) > 0
        answers = read_at_once(app, email, readers)
        assert [status for status, _body in answers] == [200] * (readers * len(URLS))
        per_url = {
            url: {body for i, (_s, body) in enumerate(answers) if i % len(URLS) == k}
            for k, url in enumerate(URLS)
        }
        for url, bodies in per_url.items():
            assert len(bodies) == 1, f"{url}: {len(bodies)} different answers"
        db_session.expire_all()
        assert db_session.scalar(select(func.count()).select_from(StaleMark)) == 0
        assert stored(db_session) == rebuilt(db_session)
    # And the figures are those of the edit: the item's school counts it as it now is.
    ecole_id = db_session.get(Asset, asset_id).ecole_id
    row = db_session.get(summary.SchoolSummary, ecole_id)
    assert row.data == next(r["data"] for r in refresh._school_rows(db_session, [ecole_id]))


def test_simultaneous_refreshes_by_jobs(app, programme, db_session):
    """The refresh a job calls, run by several threads at once (each its own session):
    it never raises, and the rows come out as one refresh gives them."""
    refresh.refresh_stale(db_session)
    schools = db_session.scalars(select(Ecole.id).order_by(Ecole.id)).all()
    toggle(db_session, programme["assets"]["tni_c"])
    engine = db_session.get_bind()
    barrier = threading.Barrier(4)
    counts: list[int | None] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Session(engine) as session:
                barrier.wait(timeout=60)
                counts.append(refresh.refresh_stale(session))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    # One of them did the work; the others found it done.
    assert sorted(counts, key=lambda c: c is None) == [1, None, None, None]
    db_session.expire_all()
    assert stored(db_session) == rebuilt(db_session)
    assert len(stored(db_session)[0]) == len(schools)
