"""The dashboards' figures through /api/v1 at every level: the same service's values as
the dashboard page of the token's user, their children's tables, and 404 outside scope."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inventory.auth.models import User
from inventory.reports import indicators as ind
from inventory.reports.levels import Level
from tests.factories import api_token, bearer
from tests.reports.builders import board


@pytest.fixture
def auditor(app, make_user, programme, db_session):
    """An auditor of the académie: their account and a read-only token."""
    email = make_user("auditeur", [("academie", programme["academie"])])
    return db_session.scalar(select(User).filter_by(email=email)), api_token(app, email)


def _expected(db_session, user, level, object_id=None):
    found = board(db_session, user, level, object_id)
    return found, {i.code: i.value(found.totals) for i in ind.INDICATORS if i.applies(found.grain)}


@pytest.mark.parametrize(
    ("level", "path", "key"),
    [
        (Level.SCOPE, "/api/v1/figures", None),
        (Level.ACADEMIE, "/api/v1/figures/academies/{}", "academie"),
        (Level.DEPARTEMENT, "/api/v1/figures/departements/{}", "departement"),
        (Level.CIRCONSCRIPTION, "/api/v1/figures/circonscriptions/{}", ("circonscriptions", "a")),
        (Level.COLLECTIVITE, "/api/v1/figures/collectivites/{}", ("collectivites", "creteil")),
        (Level.ECOLE, "/api/v1/figures/schools/{}", ("schools", "a")),
        (Level.CLASSROOM, "/api/v1/figures/classrooms/{}", ("rooms", "a1")),
    ],
)
def test_each_level_answers_the_dashboards_figures(
    app, programme, auditor, db_session, level, path, key
):
    user, secret = auditor
    object_id = None
    if key is not None:
        object_id = programme[key] if isinstance(key, str) else programme[key[0]][key[1]]
    response = app.test_client().get(path.format(object_id), headers=bearer(secret))
    assert response.status_code == 200, response.data
    body = response.get_json()
    found, values = _expected(db_session, user, level, object_id)
    assert body["level"] == level.value and body["object_id"] == object_id
    assert body["indicators"] == pytest.approx(values)
    assert body["facts"]["targets"] == found.totals["targets"]
    assert body["facts"]["meeting"] == found.totals["meeting"]
    assert [t["level"] for t in body["tables"]] == [t.level.value for t in found.tables]
    for table, expected in zip(body["tables"], found.tables, strict=True):
        assert [r["id"] for r in table["rows"]] == [r.key for r in expected.rows]
    if level is Level.ECOLE:
        # School A: one of its classrooms meets the socle, one does not.
        assert body["facts"]["meeting"] == 1 and body["facts"]["targets"] >= 2
        assert body["socle"] == "partial"
        assert 0 < body["indicators"]["socle_coverage"] < 100


def test_figures_without_the_children_and_outside_scope(app, programme, make_user, db_session):
    email = make_user("auditeur", [("circonscription", programme["circonscriptions"]["a"])])
    secret = api_token(app, email)
    api = app.test_client()
    mine = api.get(
        f"/api/v1/figures/circonscriptions/{programme['circonscriptions']['a']}?children=false",
        headers=bearer(secret),
    )
    assert mine.status_code == 200 and mine.get_json()["tables"] == []
    for path in (
        f"/api/v1/figures/circonscriptions/{programme['circonscriptions']['c']}",
        f"/api/v1/figures/schools/{programme['schools']['c']}",
        f"/api/v1/figures/classrooms/{programme['rooms']['c1']}",
    ):
        assert api.get(path, headers=bearer(secret)).status_code == 404, path
    assert api.get("/api/v1/figures").status_code == 401
