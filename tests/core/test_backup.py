"""flask backup create / restore: a copy of the database and the stored files, restored into
an empty database (SQLite, or the PostgreSQL database socle_storage21_restore), gives the
same rows in every table and the same files."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url

from inventory import create_app
from inventory.assets import catalogue, lifecycle
from inventory.assets import photos as asset_photos
from inventory.core import backup, storage
from inventory.orgs.models import Classroom, Ecole
from tests.conftest import ADMIN
from tests.factories import tiny_png

RESTORE_DATABASE = "socle_storage21_restore"


def _empty_database_url(database_url: str, tmp_path: Path) -> str:
    """A database with no tables, of the same engine as the test database."""
    if not database_url.startswith("postgresql"):
        return f"sqlite:///{tmp_path / 'restored' / 'socle.db'}"
    url = make_url(database_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": RESTORE_DATABASE}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{RESTORE_DATABASE}"'))
    admin.dispose()
    target = url.set(database=RESTORE_DATABASE)
    engine = create_engine(target)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return target.render_as_string(hide_password=False)


def _all_rows(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            order = list(table.primary_key.columns) or list(table.columns)
            out[name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    engine.dispose()
    return out


def _files(store) -> dict[str, bytes]:
    return {f.key: store.read(f.key) for f in store.list()}


@pytest.fixture
def data(app, registry, db_session):
    """Schools, an item with a photo, a generated file: made through the services."""
    ecole = db_session.scalar(select(Ecole).filter_by(uai="0940176F"))
    room = db_session.scalars(select(Classroom).filter_by(ecole_id=ecole.id)).first()
    cat = catalogue.category_by_code(db_session, "eni")
    model = catalogue.get_or_create_model(db_session, "Speechi", "SPE-75", cat)
    asset = lifecycle.create_asset(
        db_session, ADMIN, where=lifecycle.Where(ecole.collectivite, ecole, room), model=model
    )
    store = storage.of(app)
    asset_photos.store_photo(db_session, ADMIN, asset, tiny_png(), store.folder("uploads/assets"))
    store.save("generated/labels/job-1.pdf", b"%PDF-1.4\n%%EOF\n")
    return store


def test_backup_then_restore_into_an_empty_database_gives_the_same_rows_and_files(
    app, data, database_url, tmp_path
):
    archive = tmp_path / "socle.tar.gz"
    made = app.test_cli_runner().invoke(args=["backup", "create", str(archive)])
    assert made.exit_code == 0, made.output
    assert f"Wrote {archive}" in made.output and "2 files" in made.output
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    engine_file = "database.pgdump" if database_url.startswith("postgresql") else "database.sqlite"
    assert engine_file in names and "manifest.json" in names
    assert sum(n.startswith("files/uploads/assets/") for n in names) == 1
    manifest = backup.read_manifest(archive)
    source_rows = _all_rows(database_url)
    assert manifest["tables"] == {name: len(rows) for name, rows in source_rows.items()}
    assert manifest["tables"]["ecoles"] > 0 and manifest["tables"]["asset_photos"] == 1

    target_url = _empty_database_url(database_url, tmp_path)
    restored = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": target_url,
            "INSTANCE_PATH": str(tmp_path / "restored"),
            "STORAGE_PATH": str(tmp_path / "restored-files"),
        }
    )
    runner = restored.test_cli_runner()
    done = runner.invoke(args=["backup", "restore", str(archive)])
    assert done.exit_code == 0, done.output
    assert f"Restored {archive}" in done.output
    assert _all_rows(target_url) == source_rows
    assert _files(storage.of(restored)) == _files(data)

    # Once restored, the database and the store are no longer empty: a second restore is
    # refused, and replaces them only when told to.
    again = runner.invoke(args=["backup", "restore", str(archive)])
    assert again.exit_code == 1 and "The database is not empty" in again.output
    forced = runner.invoke(args=["backup", "restore", "--force", str(archive)])
    assert forced.exit_code == 0, forced.output
    assert _all_rows(target_url) == source_rows
    assert _files(storage.of(restored)) == _files(data)
    with restored.app_context():
        from inventory.extensions import db

        db.engine.dispose()


def test_a_non_empty_store_is_refused(app, data, database_url, tmp_path):
    archive = tmp_path / "socle.tar.gz"
    assert app.test_cli_runner().invoke(args=["backup", "create", str(archive)]).exit_code == 0
    target_url = _empty_database_url(database_url, tmp_path)
    restored = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": target_url,
            "INSTANCE_PATH": str(tmp_path / "restored"),
            "STORAGE_PATH": str(tmp_path / "restored-files"),
        }
    )
    storage.of(restored).save("uploads/other/x.txt", b"left from before")
    result = restored.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
    assert result.exit_code == 1 and "The file store is not empty" in result.output
    assert _all_rows(target_url) == {}


def test_what_is_not_an_archive_is_refused(app, tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    result = app.test_cli_runner().invoke(args=["backup", "restore", "--force", str(junk)])
    assert result.exit_code == 1 and "is not a Socle backup archive" in result.output


def test_a_missing_postgresql_tool_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(backup.BackupError, match="pg_dump is not on the PATH"):
        backup.require_tool("pg_dump")
