"""Command-line groups: ``flask --app wsgi schools|users|demo …``."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from inventory.core import audit, backup, storage
from inventory.core.errors import DomainError
from inventory.core.importing import ImportFileError, ImportReport
from inventory.core.policy import Role, Scope, ScopeKind
from inventory.extensions import db


class _Console:
    """The CLI acts as an administrator; its changes are logged as made from the console."""

    id = None
    role = Role.ADMIN
    scope = Scope(everything=True)


CONSOLE = _Console()


def _as_console() -> None:
    audit.set_actor(audit.Actor(None, "cli:" + getpass.getuser()))


def print_report(report: ImportReport) -> None:
    """The counts, then every row the import has something to say about: what changed,
    warnings, skips grouped by reason (on standard output), rejections (on errors)."""
    for note in report.notes:
        click.echo(note)
    click.echo(
        f"created: {report.created}  updated: {report.updated}  unchanged: {report.unchanged}  "
        f"skipped: {report.skipped}  rejected: {len(report.rejected)}  "
        f"warnings: {len(report.warnings)}"
    )
    if not report.changed:
        click.echo("No change: the data was already up to date.")
    for c in report.changes:
        click.echo(f"  line {c.line}: {c.key} {c.text}")
    for w in report.warnings:
        click.echo(f"  line {w.line}: {w.key} warning: {w.text}")
    for g in report.skipped_by_reason():
        lines = ", ".join(f"{r.line} {r.key}".rstrip() for r in g.examples)
        more = ", …" if g.count > len(g.examples) else ""
        click.echo(f"  skipped {g.count}: {g.reason} (lines {lines}{more})")
    for r in report.rejected:
        click.echo(f"  line {r.line}: {r.key} {r.reason}".rstrip(), err=True)


schools = AppGroup("schools", help="The school registry: Annuaire and classes imports.")


@schools.command("import-annuaire")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_annuaire_cmd(path: Path) -> None:
    """Import an 'Annuaire de l'éducation' CSV or XLSX file (idempotent): its first-degree
    schools, circonscriptions and the collectivités owning the schools; any other row is
    skipped with its reason."""
    from inventory.orgs.importers import import_annuaire

    _as_console()
    try:
        report = import_annuaire(db.session, path.read_bytes(), path.name)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    print_report(report)


@schools.command("import-effectifs")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", help="School year to import (default: the latest in the file).")
def import_effectifs_cmd(path: Path, year: str | None) -> None:
    """Classrooms from the pupils-per-school file: creates the missing ones, re-labels the
    estimated ones (levels, pupils), never deletes one nor touches one a person edited."""
    from inventory.orgs.effectifs import import_effectifs

    _as_console()
    try:
        report = import_effectifs(db.session, path.read_bytes(), path.name, year=year)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    print_report(report)


@schools.command("estimate-classrooms")
def estimate_classrooms_cmd() -> None:
    """Give schools without classrooms an estimated set, marked as estimated."""
    from inventory.orgs.services import estimate_classrooms

    _as_console()
    click.echo(f"{estimate_classrooms(db.session)} classrooms estimated.")


@schools.command("move")
@click.argument("uai")
@click.argument("siren")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
def move_school_cmd(uai: str, siren: str, since: object) -> None:
    """Hand the school UAI to the collectivité SIREN from a date (YYYY-MM-DD)."""
    from inventory.orgs.models import Collectivite, Ecole
    from inventory.orgs.services import move_school

    _as_console()
    ecole = db.session.scalar(select(Ecole).filter_by(uai=uai.upper()))
    coll = db.session.scalar(select(Collectivite).filter_by(siren=siren))
    if ecole is None or coll is None:
        raise click.ClickException("Unknown school or collectivité.")
    try:
        move_school(db.session, CONSOLE, ecole, coll, since.date())  # type: ignore[attr-defined]
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from exc
    click.echo(f"{ecole.name} now belongs to {coll.name}.")


users = AppGroup("users", help="Accounts.")


def _parse_scopes(values: tuple[str, ...]) -> list:
    from inventory.auth.services import ScopeChoice

    out = []
    for value in values:
        kind, _, ref = value.partition(":")
        try:
            out.append(ScopeChoice(ScopeKind(kind), int(ref)))
        except ValueError as exc:
            raise click.BadParameter(f"{value!r}: expected KIND:ID, e.g. collectivite:3") from exc
    return out


_role = click.Choice([r.value for r in Role])
_scope_help = "KIND:ID with KIND in collectivite, academie, departement, circonscription."


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=_role, required=True)
@click.option("--scope", "scopes", multiple=True, help=_scope_help)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user_cmd(
    email: str, name: str, role: str, scopes: tuple[str, ...], password: str
) -> None:
    """Create an account with a password."""
    from inventory.auth.services import create_user

    _as_console()
    try:
        user = create_user(
            db.session,
            CONSOLE,
            email=email,
            name=name,
            role=Role(role),
            scopes=_parse_scopes(scopes),
            password=password,
        )
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from exc
    click.echo(f"Created {user.email} ({user.role.value}).")


@users.command("invite")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=_role, required=True)
@click.option("--scope", "scopes", multiple=True, help=_scope_help)
def invite_user_cmd(email: str, name: str, role: str, scopes: tuple[str, ...]) -> None:
    """Create an account and mail a link to choose the password."""
    from inventory.auth.services import invite_user
    from inventory.core.addresses import base_url

    _as_console()
    base = base_url()
    if base is None:
        raise click.ClickException(
            "BASE_URL is not set: the invitation mail could not carry its link. Set BASE_URL "
            "(for example https://socle.ville.fr) in the environment or instance/config.py."
        )
    try:
        user = invite_user(
            db.session,
            current_app.config,
            CONSOLE,
            lambda token: f"{base}/invitation/{token}",
            email=email,
            name=name,
            role=Role(role),
            scopes=_parse_scopes(scopes),
        )
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from exc
    click.echo(f"Invited {user.email}.")


@users.command("deactivate")
@click.argument("email")
def deactivate_user_cmd(email: str) -> None:
    """Deactivate an account (accounts are never deleted)."""
    from inventory.auth.models import User
    from inventory.auth.services import deactivate_user, normalize_email

    _as_console()
    user = db.session.scalar(select(User).filter_by(email=normalize_email(email)))
    if user is None:
        raise click.ClickException("No such account.")
    deactivate_user(db.session, CONSOLE, user)
    click.echo(f"Deactivated {user.email}.")


@users.command("list")
def list_users_cmd() -> None:
    """List accounts with role, scope and last sign-in."""
    from inventory.auth.services import list_users

    for u in list_users(db.session, CONSOLE):
        scopes = ",".join(f"{s.kind.value}:{s.ref_id}" for s in u.scopes) or "-"
        last = u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else "never"
        state = "active" if u.active else "inactive"
        click.echo(f"{u.email}\t{u.role.value}\t{scopes}\t{last}\t{state}")


demo = AppGroup("demo", help="Demonstration data.")


@demo.command("load")
@click.option("--annuaire", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load_demo_cmd(annuaire: Path | None) -> None:
    """Import the Val-de-Marne schools, estimate classrooms, create one account per role."""
    from inventory.demo import load_demo

    _as_console()
    for line in load_demo(db.session, annuaire):
        click.echo(line)


assets = AppGroup("assets", help="Equipment: spreadsheet import and export.")


def _collectivite_id(ref: str) -> int:
    """A collectivité given by SIREN (9 digits) or id."""
    from inventory.orgs.models import Collectivite

    ref = ref.strip()
    coll = None
    if len(ref) == 9 and ref.isdigit():
        coll = db.session.scalar(select(Collectivite).filter_by(siren=ref))
    if coll is None and ref.isdigit():
        coll = db.session.get(Collectivite, int(ref))
    if coll is None:
        raise click.ClickException(f"Unknown collectivité {ref}.")
    return coll.id


@assets.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--collectivite",
    help="SIREN or id of the collectivité whose storage receives new items without a UAI.",
)
def import_assets_cmd(path: Path, collectivite: str | None) -> None:
    """Import an equipment CSV or XLSX file (idempotent); same columns as the template."""
    from inventory.assets.importers import import_assets

    _as_console()
    coll_id = _collectivite_id(collectivite) if collectivite else None
    try:
        report = import_assets(
            db.session, CONSOLE, path.read_bytes(), path.name, collectivite=coll_id
        )
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    print_report(report)


@assets.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--collectivite", help="Only the items of this collectivité (SIREN or id).")
@click.option(
    "--plain",
    is_flag=True,
    help="CSV with ',' and dot decimals, without BOM (default: ';', decimal comma, BOM).",
)
def export_assets_cmd(path: Path, collectivite: str | None, plain: bool) -> None:
    """Write every item to FILE.csv or FILE.xlsx, in the import columns."""
    from zoneinfo import ZoneInfo

    from inventory.assets.lists import AssetFilters
    from inventory.assets.spreadsheet import export_headers, export_rows
    from inventory.core.exporting import FORMATS, FRENCH, PLAIN, file_bytes

    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise click.BadParameter("the file name must end in .csv or .xlsx", param_hint="PATH")
    filters = AssetFilters(collectivite=_collectivite_id(collectivite) if collectivite else None)
    count = 0

    def counted(rows):  # type: ignore[no-untyped-def]
        nonlocal count
        for row in rows:
            count += 1
            yield row

    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    rows = export_rows(db.session, CONSOLE, filters, tz=tz)
    dialect = PLAIN if plain else FRENCH
    path.write_bytes(file_bytes(fmt, export_headers(), counted(rows), dialect))
    click.echo(f"{count} items written to {path}.")


grants = AppGroup("grants", help="Grants: funding schemes and the aid of dossiers.")


@grants.command("install-presets")
def install_presets_cmd() -> None:
    """Install the shipped funding schemes (SNEE 2021, Label écoles numériques 2020);
    schemes already there, matched by code, are left as they are."""
    from inventory.grants.schemes import install_presets

    _as_console()
    created = install_presets(db.session)
    if created:
        click.echo("Installed: " + ", ".join(created))
    else:
        click.echo("No change: the shipped schemes were already installed.")


@grants.command("compute")
@click.argument("dossier_id", type=int)
def compute_cmd(dossier_id: int) -> None:
    """Print the aid of dossier DOSSIER_ID, step by step."""
    from werkzeug.exceptions import NotFound

    from inventory.grants.breakdown import dossier_summary
    from inventory.grants.common import money
    from inventory.grants.dossiers import dossier_detail

    try:
        dossier = dossier_detail(db.session, CONSOLE, dossier_id)
    except NotFound as exc:
        raise click.ClickException(f"No dossier {dossier_id}.") from exc
    summary = dossier_summary(dossier)
    click.echo(f"{dossier.collectivite.name} – {dossier.reference or '-'} – {dossier.title}")
    click.echo(f"{dossier.scheme.name} (rules version {dossier.scheme_version})")
    for line in summary.lines:
        indent = "" if line.kind in {"heading", "total", "convention_max"} else "  "
        click.echo(indent + line.text)
    click.echo(f"Received: {money(summary.received_cents)}")
    click.echo(f"Left to claim: {money(summary.left_to_claim_cents)}")


helpdesk = AppGroup("helpdesk", help="Helpdesk: notifications of the reported problems.")


@helpdesk.command("digest")
def helpdesk_digest_cmd() -> None:
    """Mail the daily digest of new reports to the staff who chose it (run once a day)."""
    from inventory.helpdesk.notify import send_digests

    _as_console()
    sent = send_digests(db.session, current_app.config)
    click.echo(f"{sent} digest(s) sent.")


reports = AppGroup("reports", help="Dashboards: the summaries behind their figures.")


@reports.command("refresh")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Compute every school's summary again (after rows were written without the "
    "application, a restore say).",
)
def refresh_summaries_cmd(everything: bool) -> None:
    """Bring the dashboards' summaries up to date: the schools marked stale by the changes
    since the last refresh (every school the first time), so that the first dashboard
    request need not compute them."""
    from inventory.reports.refresh import refresh_all, refresh_stale

    _as_console()
    refreshed = refresh_all(db.session) if everything else refresh_stale(db.session)
    if refreshed is None:
        click.echo("Summaries already up to date.")
    else:
        click.echo(f"Summaries refreshed: {refreshed} school(s).")


files = AppGroup("storage", help="The stored files: uploads, generated PDFs and packs.")


@files.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    help="Delete generated files older than this (default: GENERATED_FILES_DAYS).",
)
def storage_purge(days: int | None) -> None:
    """Delete the old generated files (label PDFs, evidence packs); uploads are kept."""
    if days is None:
        days = current_app.config["GENERATED_FILES_DAYS"]
    gone = storage.purge_generated(storage.current(), timedelta(days=days), datetime.now(UTC))
    click.echo(f"{len(gone)} generated file(s) older than {days} day(s) deleted.")


backups = AppGroup("backup", help="A complete copy of the database and the stored files.")


def _echo_summary(verb: str, summary: backup.Summary, path: Path) -> None:
    click.echo(
        f"{verb} {path}: {summary.engine} database, {len(summary.tables)} tables, "
        f"{summary.rows} rows; {summary.files} files ({summary.bytes} bytes)."
    )


@backups.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_create(path: Path) -> None:
    """Write a consistent archive of the database and the stored files to PATH."""
    try:
        summary = backup.create(db.engine, storage.current(), path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    _echo_summary("Wrote", summary, path)


@backups.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that has tables, and files.")
def backup_restore(path: Path, force: bool) -> None:
    """Put the database and the files of the archive PATH back, into an empty database
    (stop the web and job workers first)."""
    try:
        summary = backup.restore(db.engine, storage.current(), path, force=force)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    _echo_summary("Restored", summary, path)
    click.echo(f"The archive was made on {summary.created_at}.")


jobs = AppGroup("jobs", help="The job queue: run a worker, see what waits.")


@jobs.command("work")
@click.option("--workers", "-w", type=int, default=None, help="Worker threads (default 2).")
@click.option(
    "--no-periodic", is_flag=True, help="Do not run the periodic tasks (another worker does)."
)
def jobs_work_cmd(workers: int | None, no_periodic: bool) -> None:
    """Run a job consumer until stopped (SIGINT or SIGTERM; SIGTERM waits for the running
    tasks). Run as many as needed, on any machine that reaches the database and queue."""
    import logging

    from inventory.core.jobs import queue

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    q = queue(current_app._get_current_object())  # type: ignore[attr-defined]
    if q.huey.immediate:
        raise click.ClickException("Jobs run immediately here (JOBS_IMMEDIATE or TESTING).")
    consumer = q.huey.create_consumer(
        workers=workers or int(current_app.config.get("JOBS_WORKERS", 2)),
        worker_type="thread",
        periodic=not no_periodic,
        check_worker_health=True,
    )
    consumer.run()


@jobs.command("status")
def jobs_status_cmd() -> None:
    """How many tasks wait in the queue, the tracked jobs by state, and the running ones
    with the age of their last heartbeat (a silent one's worker may have died)."""
    from inventory.core.db import utcnow
    from inventory.core.jobs import JobState, jobs_count, queue_backlog, running_jobs

    click.echo(f"queued tasks: {queue_backlog(current_app._get_current_object())}")  # type: ignore[attr-defined]
    for state in JobState:
        click.echo(f"{state.value} jobs: {jobs_count(db.session, state)}")
    now = utcnow()
    for job in running_jobs(db.session):
        beat = job.heartbeat_at or job.started_at or now
        age = max(0, int((now - beat).total_seconds()))
        click.echo(
            f"running job {job.id} ({job.kind}): {job.done}/{job.total}, heartbeat {age}s ago"
        )


@jobs.command("recover")
@click.option(
    "--after",
    type=float,
    default=None,
    help="Seconds of silent heartbeat (default: JOBS_STALE_MINUTES, 5 minutes).",
)
def jobs_recover_cmd(after: float | None) -> None:
    """Mark failed the running jobs whose heartbeat stopped (their worker died), so that
    their owner may retry them. The consumers' scheduler does it every minute too."""
    from inventory.core.jobs import fail_stale, stale_after

    silent = timedelta(seconds=after) if after is not None else stale_after(current_app.config)
    click.echo(f"jobs marked failed: {fail_stale(db.session, silent)}")


suppliers = AppGroup("suppliers", help="The suppliers' directory and the alerts of ends.")


@suppliers.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--collectivite", "siren", required=True, help="The collectivité's SIREN.")
def import_suppliers_cmd(path: Path, siren: str) -> None:
    """Import a suppliers' CSV or XLSX file into a collectivité's directory (idempotent on
    the SIRET; without one, on the name)."""
    from inventory.orgs.models import Collectivite
    from inventory.suppliers.importer import import_suppliers

    _as_console()
    owner = db.session.scalar(select(Collectivite).filter_by(siren=siren))
    if owner is None:
        raise click.ClickException(f"No collectivité has the SIREN {siren}.")
    try:
        report = import_suppliers(
            db.session, CONSOLE, path.read_bytes(), path.name, collectivite=owner
        )
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    print_report(report)


@suppliers.command("alerts")
def suppliers_alerts_cmd() -> None:
    """Write now the alerts of what ends soon (the morning job's work) to the outbox."""
    from inventory.assets.socle import paris_today
    from inventory.suppliers.alerts import send_expiry_alerts

    _as_console()
    sent = send_expiry_alerts(db.session, current_app.config, paris_today())
    click.echo(f"alerts written: {sent}")


def register(app: Flask) -> None:
    groups = (schools, users, demo, assets, grants, helpdesk, reports, jobs, files, backups)
    for group in (*groups, suppliers):
        app.cli.add_command(group)
