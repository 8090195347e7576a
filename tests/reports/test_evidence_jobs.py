"""Evidence packs as jobs: asked for from the dashboard, followed on the job's page, kept in
the file store (a local folder or a real S3 API, moto's server) for their owner only, and
deleted after EVIDENCE_FILES_RETENTION_DAYS by the hourly clean-up of generated files."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inventory.assets.models import Asset
from inventory.core import storage
from inventory.core.audit import AuditRecord
from inventory.core.db import utcnow
from inventory.core.jobs import Job, JobState, delete_old_generated_files
from inventory.core.policy import Role
from inventory.core.storage import LocalStorage, S3Storage
from tests.conftest import login
from tests.core.conftest import backend, s3_endpoint  # noqa: F401  (the stores' fixtures)
from tests.factories import pdf_text
from tests.reports.builders import ask_for_pack

PACK_FILES = {"synthese.pdf", "equipements.csv", "factures.csv", "formations.csv", "journal.csv"}


@pytest.fixture
def app_config(backend):  # noqa: F811
    return backend


def _csv(z: zipfile.ZipFile, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(z.read(name).decode("utf-8-sig")), delimiter=";"))


def _client(app, make_user, role, scopes):
    client = app.test_client()
    assert login(client, make_user(role, scopes)).status_code == 302
    return client


def test_an_auditor_asks_for_a_pack_follows_its_job_and_downloads_it(
    app,
    programme,
    make_user,
    db_session,
    backend,  # noqa: F811
):
    auditor = _client(app, make_user, Role.AUDITEUR, [("academie", programme["academie"])])
    coll = programme["collectivites"]["creteil"]
    # The dashboard offers a button (a form with its token), not a link that builds the pack.
    board = auditor.get(f"/tableau-de-bord/collectivite/{coll}").get_data(as_text=True)
    form = re.search(
        rf'<form method="post" action="/tableau-de-bord/collectivite/{coll}/preuves"[^>]*>'
        r"(.*?)</form>",
        board,
        re.S,
    )
    assert form and 'name="csrf_token"' in form.group(1)
    assert "preuves.zip" not in board

    job_id, page = ask_for_pack(auditor, f"/tableau-de-bord/collectivite/{coll}/preuves")
    job = db_session.get(Job, job_id)
    assert job.kind == "reports.evidence" and job.state == JobState.DONE
    assert job.collectivite_id == coll and job.done == job.total == 6
    assert job.params == {"collectivite": coll, "dossier": None, "locale": "fr"}
    assert "Dossier de justificatifs" in page and 'http-equiv="refresh"' not in page
    assert f'href="/taches/{job_id}/fichier"' in page and "7 jours" in page
    # Asking is in the change log as a label print's job is (a job, not business data).
    logged = db_session.scalars(
        select(AuditRecord).where(
            AuditRecord.object_type == "jobs", AuditRecord.object_id == job_id
        )
    ).all()
    assert [r.action for r in logged] == ["create"]

    # The ZIP is in the file store, the one the configuration names.
    kind = S3Storage if "STORAGE_URL" in backend else LocalStorage
    assert isinstance(storage.of(app), kind)
    folder = storage.of(app).folder("generated/evidence")
    key = job.result["file"]
    assert re.fullmatch(r"[0-9a-f]{32}\.zip", key)
    assert folder.stat(key).size == job.result["size"] > 0

    with auditor.get(f"/taches/{job_id}/fichier") as pack:
        assert pack.status_code == 200 and pack.mimetype == "application/zip"
        assert pack.headers["Cache-Control"] == "no-store"
        assert pack.headers["X-Content-Type-Options"] == "nosniff"
        disposition = pack.headers["Content-Disposition"]
        data = pack.get_data()
    assert disposition.startswith("attachment") and "preuves-collectivite-" in disposition
    assert data == folder.read(key)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert set(z.namelist()) == PACK_FILES
        equipment, training = _csv(z, "equipements.csv"), _csv(z, "formations.csv")
        journal = z.read("journal.csv").decode("utf-8-sig")
        pdf = z.read("synthese.pdf")
    owned = db_session.scalar(
        select(func.count()).select_from(Asset).where(Asset.collectivite_id == coll)
    )
    assert len(equipment) - 1 == owned and "numero_de_serie" in equipment[0]
    assert len(training) == 1 + 2  # the held session at A, the planned one at B
    assert "create" in journal and pdf_text(pdf).startswith("Dossier de justificatifs")

    # Another auditor of the same académie follows the job but does not get the pack;
    # a technician of another collectivité does not even see the job.
    other = _client(app, make_user, Role.AUDITEUR, [("academie", programme["academie"])])
    seen = other.get(f"/taches/{job_id}")
    assert seen.status_code == 200 and "/fichier" not in seen.get_data(as_text=True)
    assert other.get(f"/taches/{job_id}/fichier").status_code == 404
    fresnes = programme["collectivites"]["fresnes"]
    outsider = _client(app, make_user, Role.TECHNICIEN, [("collectivite", fresnes)])
    assert outsider.get(f"/taches/{job_id}").status_code == 404
    assert outsider.get(f"/taches/{job_id}/fichier").status_code == 404
    # An administrator may download it.
    admin = _client(app, make_user, Role.ADMIN, [])
    with admin.get(f"/taches/{job_id}/fichier") as served:
        assert served.status_code == 200 and served.get_data() == data


def test_the_pack_is_made_in_the_language_of_its_author(app, programme, make_user, db_session):
    auditor = _client(app, make_user, Role.AUDITEUR, [("academie", programme["academie"])])
    auditor.post("/language", data={"lang": "en", "next": "/"})
    dossier = programme["dossiers"]["creteil"]
    job_id, page = ask_for_pack(auditor, f"/tableau-de-bord/dossier/{dossier}/preuves")
    assert db_session.get(Job, job_id).params["locale"] == "en"
    assert "Evidence pack" in page
    with auditor.get(f"/taches/{job_id}/fichier") as pack:
        assert f"preuves-dossier-{dossier}-" in pack.headers["Content-Disposition"]
        data = pack.get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert len(_csv(z, "equipements.csv")) - 1 == 4  # the dossier's funded items
        pdf = z.read("synthese.pdf")
    assert pdf_text(pdf).startswith("Evidence pack")


def test_a_pack_out_of_scope_is_refused_and_no_job_is_made(app, programme, make_user, db_session):
    circo = programme["circonscriptions"]["a"]  # Créteil's schools only
    ien = _client(app, make_user, Role.AUDITEUR, [("circonscription", circo)])
    fresnes, creteil = programme["collectivites"]["fresnes"], programme["collectivites"]["creteil"]
    before = db_session.scalar(select(func.count()).select_from(Job))
    assert ien.post(f"/tableau-de-bord/collectivite/{fresnes}/preuves").status_code == 404
    trainer = _client(app, make_user, Role.FORMATEUR, [("circonscription", circo)])
    assert trainer.post(f"/tableau-de-bord/collectivite/{creteil}/preuves").status_code == 404
    # The old address that built the pack in the request is gone.
    assert ien.get(f"/tableau-de-bord/collectivite/{creteil}/preuves.zip").status_code == 404
    assert db_session.scalar(select(func.count()).select_from(Job)) == before


def test_old_packs_are_deleted_by_the_periodic_clean_up(
    app,
    programme,
    make_user,
    db_session,
    backend,  # noqa: F811
):
    auditor = _client(app, make_user, Role.AUDITEUR, [("academie", programme["academie"])])
    coll = programme["collectivites"]["creteil"]
    job_id, _page = ask_for_pack(auditor, f"/tableau-de-bord/collectivite/{coll}/preuves")
    folder = storage.of(app).folder("generated/evidence")
    key = db_session.get(Job, job_id).result["file"]
    labels = storage.of(app).folder("generated/labels")
    labels.save("orphan.pdf", b"%PDF-1.4")  # a label PDF no print names any more
    with app.app_context():
        delete_old_generated_files()  # the periodic task, as the scheduler runs it
    assert folder.exists(key) and labels.exists("orphan.pdf")  # younger than 7 days

    app.config["EVIDENCE_FILES_RETENTION_DAYS"] = 0
    with app.app_context():
        delete_old_generated_files()
    assert not folder.exists(key)
    assert labels.exists("orphan.pdf")  # label PDFs keep their own retention
    page = auditor.get(f"/taches/{job_id}").get_data(as_text=True)
    assert "/fichier" not in page and "0 jours" in page
    assert auditor.get(f"/taches/{job_id}/fichier").status_code == 404

    app.config["LABEL_FILES_RETENTION_DAYS"] = 0
    with app.app_context():
        delete_old_generated_files()
    assert not labels.exists("orphan.pdf")


def test_a_pack_whose_worker_died_is_retried_by_its_auditor(app, programme, make_user, db_session):
    auditor = _client(app, make_user, Role.AUDITEUR, [("academie", programme["academie"])])
    coll = programme["collectivites"]["creteil"]
    job_id, _page = ask_for_pack(auditor, f"/tableau-de-bord/collectivite/{coll}/preuves")
    # As a consumer killed mid-pack leaves it: running, its heartbeat minutes old.
    job = db_session.get(Job, job_id)
    first = job.result["file"]
    job.state, job.result, job.done = JobState.RUNNING, None, 3
    job.heartbeat_at = utcnow() - timedelta(minutes=12)
    db_session.commit()
    assert auditor.get(f"/taches/{job_id}/fichier").status_code == 404  # not done
    runner = app.test_cli_runner()
    assert runner.invoke(args=["jobs", "recover"]).output.strip() == "jobs marked failed: 1"
    page = auditor.get(f"/taches/{job_id}").get_data(as_text=True)
    assert f'action="/taches/{job_id}/relancer"' in page  # an auditor retries their pack
    # Another auditor follows it but may not retry it.
    other = _client(app, make_user, Role.AUDITEUR, [("academie", programme["academie"])])
    assert "relancer" not in other.get(f"/taches/{job_id}").get_data(as_text=True)
    assert other.post(f"/taches/{job_id}/relancer").status_code == 404

    assert auditor.post(f"/taches/{job_id}/relancer").status_code == 302
    db_session.expire_all()
    job = db_session.get(Job, job_id)
    assert job.state == JobState.DONE and job.attempts == 2 and job.result["file"] != first
    with auditor.get(f"/taches/{job_id}/fichier") as pack:
        assert pack.status_code == 200
        with zipfile.ZipFile(io.BytesIO(pack.get_data())) as z:
            assert set(z.namelist()) == PACK_FILES
