"""The job queue and the job records users follow.

The queue is Huey: its SQLite storage (a file in the instance folder) is the embedded
default, Redis is production (``JOBS_URL=redis://…``, or ``REDIS_URL`` when ``JOBS_URL`` is
unset). In tests (``TESTING``, or ``JOBS_IMMEDIATE``) tasks run at once, in the caller's
thread. ``flask jobs work`` runs a consumer: as many as needed, on any machine that
reaches the database and the queue.

A domain declares its tasks with :func:`task` and :func:`periodic` (plain functions that
call services) and its tracked jobs with :func:`handler`. A job that makes a file (an
evidence pack) keeps it in a folder of the file store declared with :func:`keep_files`,
names it in its result (``file``, ``name``, ``mimetype``), and its owner downloads it from
``/taches/<id>/fichier``; one periodic task deletes every such folder's old files.

A tracked job has a :class:`Job` row (state, progress, result, error, attempts) that the
progress page reads, that a restart does not lose, and that a user may retry when its
worker died (its heartbeat stops; :func:`fail_stale` marks it failed).

Each app builds its own Huey instance from its configuration, the first time it needs
it, and registers every declared task on it wrapped in that app's context: a task runs
with its own database session, as it would in a consumer process.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import JSON, ForeignKey, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from inventory.core import audit, events, policy, storage
from inventory.core.audit import Audited
from inventory.core.db import Base, UTCDateTime, utcnow
from inventory.core.errors import DomainError
from inventory.core.policy import Action, Role, Subject
from inventory.core.storage import Storage, StoredFile
from inventory.extensions import db

log = logging.getLogger(__name__)

# The error a job carries when its worker stopped under it (the page says it in words).
WORKER_LOST = "worker-lost"


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(Audited, Base):
    """A tracked job: a label print, a large import… Its worker writes its progress and
    heartbeat; the progress page reads them; a failed one can be queued again."""

    __tablename__ = "jobs"
    # Progress and heartbeats are written outside the ORM and are not business changes.
    __audit_exclude__ = frozenset({"done", "total", "heartbeat_at", "started_at"})
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(10), default=JobState.QUEUED, index=True)
    # What the handler needs to (re)do the work: ids, file names, options.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    # Whose data it is: who else may follow it (the policy's scope).
    collectivite_id: Mapped[int | None] = mapped_column(ForeignKey("collectivites.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return None, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return f"{self.kind} #{self.id}"

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)


class JobError(DomainError):
    pass


class Progress(Protocol):
    def __call__(self, done: int, total: int | None = None) -> None: ...


# A tracked job's work: it returns the job's result (shown by the kind's result partial).
Handler = Callable[[Session, Job, Progress], dict[str, Any] | None]


@dataclass
class _Declared:
    fn: Callable[..., Any]
    schedule: dict[str, str] | None = None  # crontab fields of a periodic task
    retries: int = 0


@dataclass(frozen=True)
class KeptFiles:
    """A folder of generated files (``generated/…``) and how long its files are kept: the
    setting naming the days, its default, and what else to forget with the files (the
    database rows that name them), given the session, the folder and the cut-off time."""

    folder: str
    setting: str
    default_days: float = 7
    forget: Callable[[Session, Storage, datetime], Any] | None = None

    def store(self) -> Storage:
        return storage.current().folder(self.folder)

    def cutoff(self, config: Any, now: datetime) -> datetime:
        return now - timedelta(days=float(config.get(self.setting, self.default_days)))


_declared: dict[str, _Declared] = {}
_handlers: dict[str, Handler] = {}
_kept: dict[str, KeptFiles] = {}
# The folder of the files a job kind makes (its result names the file).
_kind_files: dict[str, KeptFiles] = {}
# What a job kind's owner must be allowed to retry it (what asking for it takes).
_retry_actions: dict[str, Action] = {}


def _name(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__name__}"


def task(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Declare a task (a plain function); run it later with :func:`enqueue`."""
    _declared[_name(fn)] = _Declared(fn)
    return fn


def periodic(**schedule: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Declare a periodic task, run by the consumers' scheduler (crontab fields, in UTC)."""

    def decorate(fn: Callable[[], Any]) -> Callable[[], Any]:
        _declared[_name(fn)] = _Declared(fn, schedule=schedule)
        return fn

    return decorate


def handler(
    kind: str, files: KeptFiles | None = None, action: Action = Action.EDIT
) -> Callable[[Handler], Handler]:
    """Declare the work of a tracked job kind; ``files``: where the file it makes is kept
    (declared with :func:`keep_files`), for the download of its owner; ``action``: what
    asking for such a job takes, and so retrying it (editing, by default)."""

    def decorate(fn: Handler) -> Handler:
        _handlers[kind] = fn
        _retry_actions[kind] = action
        if files is not None:
            _kind_files[kind] = files
        return fn

    return decorate


def keep_files(
    folder: str,
    setting: str,
    *,
    default_days: float = 7,
    forget: Callable[[Session, Storage, datetime], Any] | None = None,
) -> KeptFiles:
    """Declare a folder of generated files whose files :func:`delete_old_generated_files`
    deletes once older than ``setting`` days (``default_days`` when unset)."""
    if not folder.startswith(f"{storage.GENERATED}/"):
        raise ValueError(f"generated files live under {storage.GENERATED}/, not {folder}")
    kept = KeptFiles(storage.check_key(folder), setting, default_days, forget)
    _kept[folder] = kept
    return kept


@dataclass
class Queue:
    huey: Huey
    tasks: dict[str, Any] = field(default_factory=dict)


def build_huey(config: Any, instance_path: str) -> Huey:
    """The Huey instance the configuration asks for (see the module's docstring)."""
    immediate = config.get("JOBS_IMMEDIATE")
    if immediate is None:
        immediate = bool(config.get("TESTING"))
    if immediate:
        return MemoryHuey("socle", immediate=True)
    url = config.get("JOBS_URL") or config.get("REDIS_URL") or ""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("socle", url=url)
    if url.startswith("sqlite:///"):
        filename = url.removeprefix("sqlite:///")
    else:
        filename = str(Path(instance_path) / "jobs.db")
    Path(filename).parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("socle", filename=filename)


def _in_app(app: Flask, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn`` in an app context of its own: its own session, removed afterwards. What
    the queue does on its own is the system's in the change log (a tracked job then acts as
    its owner), whoever last acted in this process (a command sets its console actor)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        with app.app_context(), audit.acting_as(audit.SYSTEM):
            try:
                return fn(*args, **kwargs)
            finally:
                db.session.remove()

    run.__name__ = fn.__name__
    return run


def queue(app: Flask | None = None) -> Queue:
    """This app's queue, built on first use with every declared task registered."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found: Queue | None = app.extensions.get("socle_jobs")
    if found is not None:
        return found
    huey = build_huey(app.config, app.instance_path)
    q = Queue(huey)
    for name, declared in _declared.items():
        wrapped = _in_app(app, declared.fn)
        if declared.schedule is not None:
            q.tasks[name] = huey.periodic_task(crontab(**declared.schedule), name=name)(wrapped)
        else:
            q.tasks[name] = huey.task(name=name, retries=declared.retries)(wrapped)
    app.extensions["socle_jobs"] = q
    return q


def enqueue(fn: Callable[..., Any], *args: Any) -> None:
    """Queue a declared task (at once in immediate mode)."""
    queue().tasks[_name(fn)](*args)


def queue_backlog(app: Flask | None = None) -> int:
    """How many tasks wait in the queue (for the health check)."""
    q = queue(app)
    return 0 if q.huey.immediate else int(q.huey.pending_count())


# -- tracked jobs --------------------------------------------------------------------------
def record(
    session: Session,
    kind: str,
    params: dict[str, Any],
    *,
    total: int = 0,
    collectivite_id: int | None = None,
) -> Job:
    """A job for the acting user, added to ``session``: the caller commits it with the rows
    that go with it, then calls :func:`start`."""
    if kind not in _handlers:
        raise LookupError(f"no handler for job kind {kind}")
    actor = audit.current_actor()
    job = Job(
        kind=kind,
        state=JobState.QUEUED,
        params=params,
        done=0,
        total=total,
        attempts=0,
        user_id=actor.user_id,
        actor_label=actor.label,
        collectivite_id=collectivite_id,
    )
    session.add(job)
    return job


def start(job: Job) -> None:
    """Queue a committed job (in immediate mode, run it now)."""
    enqueue(run_job, job.id)


def submit(
    session: Session,
    kind: str,
    params: dict[str, Any],
    *,
    total: int = 0,
    collectivite_id: int | None = None,
) -> Job:
    """Record a job for the acting user, commit, then queue it."""
    job = record(session, kind, params, total=total, collectivite_id=collectivite_id)
    session.commit()
    start(job)
    return job


def _set(session: Session, job_id: int, **values: Any) -> int:
    result = session.execute(update(Job).where(Job.id == job_id).values(**values))
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@contextmanager
def _heartbeat(job_id: int, every: float) -> Iterator[None]:
    """Beat every ``every`` seconds on a connection of its own while the job runs; a
    worker that dies stops beating, which :func:`fail_stale` sees."""
    stop = threading.Event()
    engine = db.engine

    def beat() -> None:
        while not stop.wait(every):
            try:
                with engine.begin() as conn:
                    conn.execute(
                        update(Job.__table__)
                        .where(Job.__table__.c.id == job_id)
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:  # a beat missed is not the job's failure
                log.warning("job %s: heartbeat not written", job_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@task
def run_job(job_id: int) -> None:
    """Claim a queued job, run its handler, and record how it ended."""
    session = db.session
    now = utcnow()
    claim = (
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(
            state=JobState.RUNNING,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
            attempts=Job.attempts + 1,
        )
    )
    claimed = session.execute(claim).rowcount  # type: ignore[attr-defined]
    session.commit()
    if not claimed:
        return  # already taken by another worker, or no longer waiting
    job = session.get(Job, job_id)
    assert job is not None

    attempt = job.attempts
    collectivite, kind = job.collectivite_id, job.kind

    def finish(**values: Any) -> None:
        # Only the run that holds the job ends it: not one declared dead and retried since.
        ended = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.RUNNING, Job.attempts == attempt)
            .values(finished_at=utcnow(), **values)
        )
        if ended.rowcount:  # type: ignore[attr-defined]
            events.emit(
                session,
                events.JOB_FINISHED,
                collectivite,
                job=job_id,
                kind=kind,
                state=str(values["state"]),
            )
        session.commit()

    def progress(done: int, total: int | None = None) -> None:
        values: dict[str, Any] = {"done": done, "heartbeat_at": utcnow()}
        if total is not None:
            values["total"] = total
        _set(session, job_id, **values)

    every = float(current_app.config.get("JOBS_HEARTBEAT_SECONDS", 30))
    actor = audit.Actor(job.user_id, job.actor_label or "job")
    with _heartbeat(job_id, every), audit.acting_as(actor):
        try:
            result = _handlers[job.kind](session, job, progress)
        except Exception as exc:  # the job must end in a visible state, whatever happened
            session.rollback()
            log.exception("job %s (%s) failed", job_id, job.kind)
            message = str(exc.message) if isinstance(exc, DomainError) else str(exc)
            finish(state=JobState.FAILED, error=message[:2000] or type(exc).__name__)
            return
    finish(state=JobState.DONE, done=Job.total, result=result or {}, heartbeat_at=utcnow())


def fail_stale(session: Session, stale_after: timedelta, now: datetime | None = None) -> int:
    """Mark failed the running jobs whose heartbeat stopped: their worker died. How many."""
    now = now or utcnow()
    result = session.execute(
        update(Job)
        .where(Job.state == JobState.RUNNING, Job.heartbeat_at < now - stale_after)
        .values(state=JobState.FAILED, error=WORKER_LOST, finished_at=now)
    )
    session.commit()
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        log.warning("%d job(s) marked failed: their worker stopped", count)
    return count


@periodic(minute="*")
def recover_stale_jobs() -> None:
    fail_stale(db.session, stale_after(current_app.config))


def retry_action(job: Job) -> Action:
    return _retry_actions.get(job.kind, Action.EDIT)


def _owns(user: Subject, job: Job) -> bool:
    """The job's owner, or an administrator."""
    return user.role is Role.ADMIN or (
        job.user_id is not None and job.user_id == getattr(user, "id", None)
    )


def may_retry(user: Subject, job: Job) -> bool:
    return (
        job.state == JobState.FAILED
        and policy.allowed(user, retry_action(job))
        and _owns(user, job)
    )


def retry(session: Session, user: Subject, job: Job) -> Job:
    """Queue a failed job again (its owner or an administrator), in the change log."""
    if not policy.allowed(user, retry_action(job)) or not _owns(user, job):
        raise policy.Denied()
    if job.state != JobState.FAILED:
        raise JobError(_l("Only a failed job can be retried."))
    job.state = JobState.QUEUED
    job.error = None
    job.result = None
    job.done = 0
    job.finished_at = None
    session.commit()
    enqueue(run_job, job.id)
    return job


# -- the files jobs make -------------------------------------------------------------------
def job_file(job: Job) -> tuple[Storage, str] | None:
    """The folder and key of the file a finished job made, if its kind makes one."""
    kept = _kind_files.get(job.kind)
    key = (job.result or {}).get("file")
    if kept is None or job.state != JobState.DONE or not key:
        return None
    return kept.store(), str(key)


def stored_file(job: Job) -> StoredFile | None:
    """The file a job made, while the store still holds it (the clean-up deletes it)."""
    found = job_file(job)
    return None if found is None else found[0].stat(found[1])


def may_download(user: Subject, job: Job) -> bool:
    """A job's file is its owner's (made with what they may see), and administrators'."""
    return job_file(job) is not None and _owns(user, job)


def retention_days(kind: str, config: Any) -> float | None:
    """How many days the files of a job kind are kept (None: it makes none)."""
    kept = _kind_files.get(kind)
    return None if kept is None else float(config.get(kept.setting, kept.default_days))


def delete_old_files(session: Session, config: Any, now: datetime) -> dict[str, list[str]]:
    """Delete the generated files older than their folder's retention, and what the
    folder's ``forget`` forgets with them; the keys deleted, by folder."""
    gone: dict[str, list[str]] = {}
    for name, kept in sorted(_kept.items()):
        folder, cutoff = kept.store(), kept.cutoff(config, now)
        if kept.forget is not None:
            kept.forget(session, folder, cutoff)
        gone[name] = storage.delete_older(folder, cutoff)
        if gone[name]:
            log.info("%d old file(s) deleted from %s", len(gone[name]), name)
    return gone


@periodic(minute="17", hour="*")
def delete_old_generated_files() -> None:
    """Hourly: label PDFs, evidence packs… past their retention (see :func:`keep_files`)."""
    delete_old_files(db.session, current_app.config, utcnow())


def running_jobs(session: Session) -> list[Job]:
    """The jobs a worker holds now, oldest first (with their heartbeat, for operators)."""
    stmt = select(Job).where(Job.state == JobState.RUNNING).order_by(Job.id)
    return list(session.scalars(stmt))


def stale_after(config: Any) -> timedelta:
    """How long a running job's heartbeat may be silent before its worker counts as dead."""
    return timedelta(minutes=float(config.get("JOBS_STALE_MINUTES", 5)))


def jobs_count(session: Session, state: JobState) -> int:
    return session.scalar(select(func.count()).select_from(Job).where(Job.state == state)) or 0
