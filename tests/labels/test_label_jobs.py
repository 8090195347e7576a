"""Large prints as jobs: run by a real consumer, recovered when their worker dies, retried,
and their prepared files deleted after the retention time."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import AssetStatus
from inventory.core import jobs, storage
from inventory.core.audit import AuditRecord
from inventory.core.db import utcnow
from inventory.core.jobs import Job, JobState, delete_old_generated_files
from inventory.extensions import db
from inventory.labels.models import PrintJob
from inventory.orgs.models import Classroom
from inventory.paths import ROOT
from tests.conftest import ADMIN
from tests.servers import a_redis

PRINT = {"format": "avery-l7163", "start": 1, "action": "print"}


@pytest.fixture
def app_config(request, tmp_path):
    return getattr(request, "param", {"LABEL_SYNC_LIMIT": 2})


def _queue_print(client, items):
    response = client.post("/etiquettes", data={"ecole": items["ecole"].id, **PRINT})
    assert response.status_code == 302, response.data[:300]
    match = re.fullmatch(r"/taches/(\d+)", response.location)
    assert match, response.location
    return int(match.group(1))


def _wait_finished(db_session, job_id, timeout=120.0):
    """Poll the job's row until its worker ends it (bounded: a dead worker fails the test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db_session.expire_all()
        job = db_session.get(Job, job_id)
        if job.finished:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still {job.state} after {timeout}s")


@pytest.mark.parametrize("app_config", [{"LABEL_SYNC_LIMIT": 2}], indirect=True)
def test_a_real_consumer_prints_a_queued_job(app, login_as, items, db_session, tmp_path):
    # The web side queues into a SQLite Huey file; `flask jobs work` takes the job from it.
    queue_file = tmp_path / "queue.db"
    app.config["JOBS_URL"] = f"sqlite:///{queue_file}"
    app.config["JOBS_IMMEDIATE"] = False
    app.extensions.pop("socle_jobs")
    client = login_as("technicien", [("collectivite", items["coll"])])
    job_id = _queue_print(client, items)
    assert db_session.get(Job, job_id).state == JobState.QUEUED
    assert jobs.queue_backlog(app) == 1
    page = client.get(f"/taches/{job_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in page  # waiting: the page refreshes (no script)
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SOCLE_INSTANCE_PATH": app.instance_path,
        "JOBS_URL": f"sqlite:///{queue_file}",
        "SECRET_KEY": "test-secret-key",
    }
    flask = Path(sys.executable).with_name("flask")
    consumer = subprocess.Popen(
        [str(flask), "jobs", "work", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        job = _wait_finished(db_session, job_id)
    finally:
        consumer.terminate()
        _, err = consumer.communicate(timeout=60)
    assert job.state == JobState.DONE, (job.error, err.decode()[-2000:])
    assert job.attempts == 1 and job.done == job.total == 5
    assert job.result == {"print_id": job.result["print_id"], "count": 5}
    page = client.get(f"/taches/{job_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page
    link = re.search(r'href="(/etiquettes/travaux/\d+/fichier)"', page)
    with client.get(link.group(1)) as pdf:
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert jobs.queue_backlog(app) == 0


def test_a_job_whose_worker_died_fails_and_its_owner_retries_it(
    app, login_as, items, db_session, make_user
):
    client = login_as("technicien", [("collectivite", items["coll"])])
    job_id = _queue_print(client, items)
    # As a consumer killed mid-print leaves it: running, its heartbeat minutes old.
    job = db_session.get(Job, job_id)
    job.state, job.result, job.done = JobState.RUNNING, None, 2
    job.heartbeat_at = utcnow() - timedelta(minutes=12)
    db_session.commit()
    running = client.get(f"/taches/{job_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in running and "<progress" in running
    with app.app_context():
        assert jobs.fail_stale(db.session, timedelta(minutes=5)) == 1
        assert jobs.fail_stale(db.session, timedelta(minutes=5)) == 0
        db.session.remove()
    db_session.expire_all()
    job = db_session.get(Job, job_id)
    assert job.state == JobState.FAILED and job.error == jobs.WORKER_LOST
    page = client.get(f"/taches/{job_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page
    assert f'action="/taches/{job_id}/relancer"' in page

    # Another technician of the same collectivité follows it but may not retry it.
    other = app.test_client()
    email = make_user("technicien", [("collectivite", items["coll"])])
    other.post("/login", data={"email": email, "password": "correct-horse-battery-staple"})
    seen = other.get(f"/taches/{job_id}").get_data(as_text=True)
    assert "relancer" not in seen
    assert other.post(f"/taches/{job_id}/relancer").status_code == 404

    assert client.post(f"/taches/{job_id}/relancer").status_code == 302
    db_session.expire_all()
    job = db_session.get(Job, job_id)
    assert job.state == JobState.DONE and job.attempts == 2 and job.error is None
    record = db_session.scalar(select(PrintJob).where(PrintJob.job_id == job_id))
    assert record.file_name and record.count == 5
    logged = db_session.scalars(
        select(AuditRecord)
        .where(AuditRecord.object_type == "jobs", AuditRecord.object_id == job_id)
        .order_by(AuditRecord.id)
    ).all()
    assert [r.action for r in logged][-1] == "update"
    assert logged[-1].changes["state"] == ["failed", "queued"]
    # Done: nothing to retry.
    assert client.post(f"/taches/{job_id}/relancer").status_code == 302
    assert db_session.get(Job, job_id).attempts == 2


def test_prepared_files_are_deleted_after_the_retention_time(app, login_as, items, db_session):
    client = login_as("technicien", [("collectivite", items["coll"])])
    old_job, new_job = _queue_print(client, items), _queue_print(client, items)
    old = db_session.scalar(select(PrintJob).where(PrintJob.job_id == old_job))
    new = db_session.scalar(select(PrintJob).where(PrintJob.job_id == new_job))
    old.created_at = utcnow() - timedelta(days=8)
    db_session.commit()
    # Kept in the file store, with the generated files that backups hold and purges clean.
    folder = storage.of(app).folder("generated/labels")
    assert folder.exists(old.file_name) and folder.exists(new.file_name)
    old_name = old.file_name
    with app.app_context():
        delete_old_generated_files()  # the periodic task, as the scheduler runs it
    db_session.expire_all()
    assert not folder.exists(old_name) and folder.exists(new.file_name)
    assert db_session.get(PrintJob, old.id).file_name is None
    # The print stays in the log and reprints; its job page no longer offers the file.
    assert client.get(f"/etiquettes/travaux/{old.id}/fichier").status_code == 404
    history = client.get("/etiquettes/historique").get_data(as_text=True)
    assert f'action="/etiquettes/historique/{old.id}"' in history


# -- a consumer killed in the middle of a print --------------------------------------------
@pytest.fixture
def queue_url(tmp_path):
    """A real Redis queue: the shared test Redis (TEST_REDIS_URL), or one of the test's own."""
    with a_redis(tmp_path) as url:
        yield url


def _consumer(app, queue_url):
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SOCLE_INSTANCE_PATH": app.instance_path,
        "JOBS_URL": queue_url,
        "SECRET_KEY": "test-secret-key",
    }
    flask = Path(sys.executable).with_name("flask")
    return subprocess.Popen(
        [str(flask), "jobs", "work", "--workers", "1", "--no-periodic"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _more_screens(db_session, items, count):
    ecole = items["ecole"]
    rooms = db_session.scalars(select(Classroom).filter_by(ecole_id=ecole.id)).all()
    model = catalogue.get_or_create_model(
        db_session, "Speechi", "SPE-75", catalogue.category_by_code(db_session, "eni")
    )
    for i in range(count):
        lifecycle.create_asset(
            db_session,
            ADMIN,
            where=lifecycle.Where(ecole.collectivite, ecole, rooms[i % len(rooms)]),
            model=model,
            status=AssetStatus.IN_SERVICE,
            fields=lifecycle.AssetFields(serial=f"BIG{i:04d}"),
        )
    db_session.commit()


def _status(app):
    result = app.test_cli_runner().invoke(args=["jobs", "status"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("app_config", [{"LABEL_SYNC_LIMIT": 2}], indirect=True)
def test_a_consumer_killed_mid_print_is_seen_stale_then_retried_by_another(
    app, login_as, items, db_session, queue_url
):
    _more_screens(db_session, items, 40)  # 45 labels: four pages of 14
    # The consumers read the instance's configuration: a quick heartbeat, and a pause after
    # each page so that the print is still running when its consumer is killed.
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    Path(app.instance_path, "config.py").write_text(
        "JOBS_HEARTBEAT_SECONDS = 0.2\nLABEL_PAGE_PAUSE_SECONDS = 1.0\n"
    )
    app.config.update(JOBS_URL=queue_url, JOBS_IMMEDIATE=False)
    app.extensions.pop("socle_jobs", None)
    jobs.queue(app).huey.flush()  # nothing left over from another run on a shared Redis
    client = login_as("technicien", [("collectivite", items["coll"])])
    job_id = _queue_print(client, items)
    assert "queued tasks: 1" in _status(app)

    first = _consumer(app, queue_url)
    try:
        deadline = time.monotonic() + 120
        while True:
            db_session.expire_all()
            job = db_session.get(Job, job_id)
            if job.state == JobState.RUNNING and job.done > 0:
                break  # a page is drawn, three are left
            assert not job.finished, (job.state, job.error)
            assert first.poll() is None, first.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the consumer never took the print"
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        first.stderr.close()
    assert first.returncode == -signal.SIGKILL

    # Dead: the job still says "running", but its heartbeat ages.
    time.sleep(1.5)
    status = _status(app)
    assert "running jobs: 1" in status and "queued tasks: 0" in status
    beat = re.search(
        rf"running job {job_id} \(labels\.print\): (\d+)/45, heartbeat (\d+)s ago", status
    )
    assert beat, status
    assert 0 < int(beat.group(1)) < 45 and int(beat.group(2)) >= 1
    assert 'http-equiv="refresh"' in client.get(f"/taches/{job_id}").get_data(as_text=True)

    recovered = app.test_cli_runner().invoke(args=["jobs", "recover", "--after", "1"])
    assert recovered.output.strip() == "jobs marked failed: 1", recovered.output
    assert "failed jobs: 1" in _status(app) and "running jobs: 0" in _status(app)
    page = client.get(f"/taches/{job_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page
    assert f'action="/taches/{job_id}/relancer"' in page
    db_session.expire_all()
    assert db_session.get(Job, job_id).error == jobs.WORKER_LOST

    # Its owner retries it; a second consumer takes it from the queue and finishes it.
    assert client.post(f"/taches/{job_id}/relancer").status_code == 302
    assert "queued tasks: 1" in _status(app)
    second = _consumer(app, queue_url)
    try:
        job = _wait_finished(db_session, job_id)
    finally:
        second.terminate()
        _, err = second.communicate(timeout=60)
    assert job.state == JobState.DONE, (job.error, err.decode()[-2000:])
    assert job.attempts == 2 and job.done == job.total == 45 and job.error is None
    status = _status(app)
    assert "done jobs: 1" in status and "failed jobs: 0" in status and "running jobs: 0" in status
    assert "queued tasks: 0" in status
    page = client.get(f"/taches/{job_id}").get_data(as_text=True)
    link = re.search(r'href="(/etiquettes/travaux/\d+/fichier)"', page)
    assert link, page
    with client.get(link.group(1)) as pdf:
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    record = db_session.scalar(select(PrintJob).where(PrintJob.job_id == job_id))
    assert record.count == 45 and storage.of(app).folder("generated/labels").exists(
        record.file_name
    )
