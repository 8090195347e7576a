"""Large web imports run as jobs, with the request's report on their progress page; small
ones stay in the request."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from inventory.assets.models import Asset
from inventory.assets.spreadsheet import HEADERS
from inventory.core.jobs import Job, JobState
from inventory.orgs.models import Ecole
from tests.assets.builders import rooms_of, sample_items, to_xlsx, upload
from tests.conftest import annuaire_rows, to_csv


@pytest.fixture
def app_config():
    return {"IMPORT_INLINE_MAX_BYTES": 4000}


def _job_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    match = re.fullmatch(r"/taches/(\d+)", response.location)
    assert match, response.location
    return int(match.group(1))


def test_a_large_registry_upload_is_imported_by_a_job(app, login_as, db_session):
    client = login_as("admin")
    header, rows = annuaire_rows(("Fresnes",))
    data = to_csv(header, rows)
    assert len(data) > 4000
    form = {"kind": "annuaire", "file": (io.BytesIO(data), "annuaire.csv")}
    job_id = _job_of(client.post("/admin/import", data=form, content_type="multipart/form-data"))
    job = db_session.get(Job, job_id)
    assert job.kind == "orgs.import" and job.state == JobState.DONE
    assert db_session.scalar(select(func.count()).select_from(Ecole)) == len(rows)
    page = client.get(f"/taches/{job_id}").get_data(as_text=True)
    assert f"<strong>{len(rows)}</strong>" in page  # the report's "created"
    # The saved upload is gone once imported.
    assert list((Path(app.instance_path) / "imports").iterdir()) == []


def test_a_small_registry_upload_stays_in_the_request(login_as, db_session):
    client = login_as("admin")
    header, rows = annuaire_rows(("Fresnes",))
    data = to_csv(header, rows[:3])
    assert len(data) < 4000
    form = {"kind": "annuaire", "file": (io.BytesIO(data), "annuaire.csv")}
    page = client.post("/admin/import", data=form, content_type="multipart/form-data")
    assert page.status_code == 200 and "<strong>3</strong>" in page.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_large_equipment_upload_is_imported_by_a_job(login_as, registry, db_session):
    coll = registry["collectivites"]["Créteil"]
    client = login_as("technicien", [("collectivite", coll)])
    data = to_xlsx(HEADERS, sample_items(rooms_of(db_session, registry, "Créteil")))
    job_id = _job_of(upload(client, data, "equipements.xlsx"))
    job = db_session.get(Job, job_id)
    assert job.kind == "assets.import" and job.state == JobState.DONE, job.error
    assert job.collectivite_id == coll
    assert db_session.scalar(select(func.count()).select_from(Asset)) == 20
    page = client.get(f"/taches/{job_id}").get_data(as_text=True)
    assert "<strong>20</strong>" in page
