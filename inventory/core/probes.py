"""What the operator's probes read of the queue and the outbox: the queue's backlog as a
health check (``/healthz``), and the waiting work as Prometheus gauges (``/metrics``).

Registered once the queue exists (``create_app``'s ``configure_jobs``)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from inventory.core import health, jobs, metrics
from inventory.core.jobs import Job, JobState
from inventory.core.mail import MailState, OutboxMessage
from inventory.extensions import db

# Above this many waiting tasks, the workers are not keeping up (or none runs).
BACKLOG_LIMIT = 1000


def _queue_check(app: Flask) -> health.Check:
    def check() -> dict[str, Any]:
        waiting = jobs.queue_backlog(app)
        limit = int(app.config.get("JOBS_BACKLOG_LIMIT", BACKLOG_LIMIT))
        if waiting > limit:
            raise health.Unhealthy(f"{waiting} tasks wait in the queue (limit {limit})")
        return {"waiting": waiting}

    return check


def _jobs_in(state: JobState) -> float:
    return float(db.session.scalar(select(func.count(Job.id)).where(Job.state == state)) or 0)


def _mail_in(state: MailState) -> float:
    stmt = select(func.count(OutboxMessage.id)).where(OutboxMessage.state == state)
    return float(db.session.scalar(stmt) or 0)


def install(app: Flask) -> None:
    health.register(app, "queue", _queue_check(app))
    metrics.register_gauge(
        app,
        "socle_queue_waiting",
        "Tasks waiting in the job queue.",
        lambda: jobs.queue_backlog(app),
    )
    for job_state in JobState:
        metrics.register_gauge(
            app,
            f"socle_jobs_{job_state.value}",
            f"Tracked jobs in the state {job_state.value}.",
            lambda s=job_state: _jobs_in(s),  # type: ignore[misc]
        )
    for mail_state in (MailState.PENDING, MailState.SENDING, MailState.FAILED):
        metrics.register_gauge(
            app,
            f"socle_outbox_{mail_state.value}",
            f"Outbox messages in the state {mail_state.value}.",
            lambda s=mail_state: _mail_in(s),  # type: ignore[misc]
        )
