"""Backup and restore: one archive holding a consistent copy of the database and every
stored file.

The archive is a gzipped tar:

- ``manifest.json``: the format, the engine, when it was made, the row count of every table,
  and every stored file with its size and SHA-256;
- ``database.sqlite`` (SQLite's online backup API: a consistent copy while the application
  runs) or ``database.pgdump`` (``pg_dump -Fc``, one snapshot in one transaction);
- ``files/<key>``: the stored files (core.storage), copied after the database: an upload
  writes its file before its row and removes it after, so every file a row of the copy names
  is there, unless it was deleted while the backup ran.

A restore goes into an empty database (no tables: before ``flask db upgrade``), of the same
engine, and an empty store; ``force`` replaces what is there.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import MetaData, func, inspect, select
from sqlalchemy.engine import URL, Engine

from inventory.core.storage import Storage, check_key

FORMAT = 1
MANIFEST = "manifest.json"
FILES = "files/"
_DUMPS = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass
class Summary:
    """What an archive holds (or what a restore wrote)."""

    engine: str
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0
    created_at: str = ""

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


# -- create ---------------------------------------------------------------------------------
def create(engine: Engine, store: Storage, target: Path) -> Summary:
    """Write the archive of ``engine``'s database and ``store``'s files to ``target``
    (written beside, then renamed: never half an archive under the name)."""
    kind = _kind(engine)
    target = Path(target)
    summary = Summary(engine=kind, created_at=datetime.now(UTC).isoformat(timespec="seconds"))
    with tempfile.TemporaryDirectory(prefix="socle-backup-") as work:
        dump = Path(work) / _DUMPS[kind]
        if kind == "sqlite":
            _sqlite_copy(engine, dump)
            summary.tables = _counts_sqlite(dump)
        else:
            _pg_dump(engine, dump)
            summary.tables = table_counts(engine)
        partial = target.with_name(target.name + ".partial")
        try:
            with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
                tar.add(dump, arcname=dump.name)
                files = [_add_file(tar, store, f.key, f.size) for f in list(store.list())]
                summary.files = len(files)
                summary.bytes = sum(f["size"] for f in files)
                manifest = {
                    "format": FORMAT,
                    "engine": kind,
                    "created_at": summary.created_at,
                    "tables": summary.tables,
                    "files": files,
                }
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return summary


def _sqlite_copy(engine: Engine, dump: Path) -> None:
    source = sqlite3.connect(_sqlite_path(engine))
    try:
        copy = sqlite3.connect(dump)
        try:
            source.backup(copy)  # page by page, consistent even while others write
        finally:
            copy.close()
    finally:
        source.close()


class _Hashing(io.RawIOBase):
    """A stream read into the archive, hashed on the way."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        return data


def _add_file(tar: tarfile.TarFile, store: Storage, key: str, size: int) -> dict[str, Any]:
    info = tarfile.TarInfo(FILES + key)
    info.size = size
    info.mtime = int(datetime.now(UTC).timestamp())
    with store.open(key) as stream:
        hashing = _Hashing(stream)
        tar.addfile(info, hashing)
    return {"key": key, "size": size, "sha256": hashing.digest.hexdigest()}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


# -- restore --------------------------------------------------------------------------------
def read_manifest(source: Path) -> dict[str, Any]:
    try:
        with tarfile.open(source, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.load(member)
    except (tarfile.TarError, KeyError, OSError, ValueError) as exc:
        raise BackupError(f"{source} is not a Socle backup archive ({exc}).") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source} has backup format {manifest.get('format')}, not {FORMAT}.")
    return manifest


def restore(engine: Engine, store: Storage, source: Path, *, force: bool = False) -> Summary:
    """Put the archive's database and files back. Refuses a database that has tables, or a
    store that has files, unless ``force`` (then both are replaced by the archive's)."""
    manifest = read_manifest(source)
    kind = _kind(engine)
    if manifest["engine"] != kind:
        raise BackupError(
            f"This archive holds a {manifest['engine']} database: restore it into a "
            f"{manifest['engine']} database, not {kind}."
        )
    if kind == "sqlite":  # a new database may be asked for in a folder not made yet
        Path(_sqlite_path(engine)).parent.mkdir(parents=True, exist_ok=True)
    if not force:
        tables = inspect(engine).get_table_names()
        if tables:
            raise BackupError(
                f"The database is not empty ({len(tables)} tables): restore into a new, empty "
                "database, or pass --force to replace it."
            )
        if next(iter(store.list()), None) is not None:
            raise BackupError(
                "The file store is not empty: restore into an empty one, or pass --force."
            )
    engine.dispose()  # no pooled connection may hold the old database
    with (
        tempfile.TemporaryDirectory(prefix="socle-restore-") as work,
        tarfile.open(source, "r:gz") as tar,
    ):
        dump = Path(work) / _DUMPS[kind]
        member = tar.extractfile(_DUMPS[kind])
        if member is None:
            raise BackupError(f"{source} holds no {_DUMPS[kind]}.")
        with dump.open("wb") as out:
            shutil.copyfileobj(member, out)
        if kind == "sqlite":
            _sqlite_restore(engine, dump)
        else:
            _pg_restore(engine, dump, clean=force)
        expected = {f["key"]: f for f in manifest["files"]}
        written = 0
        for key, stream in _archived_files(tar):
            data = stream.read()
            entry = expected.get(key)
            if entry is None or hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise BackupError(f"The archive's file {key} does not match its manifest.")
            store.save(key, data)
            written += 1
        if written != len(expected):
            raise BackupError("The archive lacks files its manifest names.")
    engine.dispose()
    return Summary(
        engine=kind,
        tables=table_counts(engine),
        files=written,
        bytes=sum(f["size"] for f in manifest["files"]),
        created_at=manifest["created_at"],
    )


def _archived_files(tar: tarfile.TarFile) -> Iterator[tuple[str, IO[bytes]]]:
    for member in tar:
        if not member.name.startswith(FILES):
            continue
        if not member.isfile():
            raise BackupError(f"The archive's entry {member.name} is not a file.")
        key = check_key(member.name[len(FILES) :])
        stream = tar.extractfile(member)
        if stream is None:
            raise BackupError(f"The archive's entry {member.name} cannot be read.")
        yield key, stream


def _sqlite_restore(engine: Engine, dump: Path) -> None:
    target = _sqlite_path(engine)
    source = sqlite3.connect(dump)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)  # replaces the whole destination, its log included
        finally:
            dest.close()
    finally:
        source.close()


# -- PostgreSQL tools -----------------------------------------------------------------------
def require_tool(name: str) -> str:
    """The path of a PostgreSQL client tool, or a message saying how to get it."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not on the PATH: install the PostgreSQL client tools of the server's "
            "version (Debian: apt install postgresql-client) and run the command again."
        )
    return path


def _pg_environment(url: URL) -> dict[str, str]:
    """libpq's variables for ``url``: the password never appears on a command line."""
    env = dict(os.environ)
    for var, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
        ("PGSSLMODE", url.query.get("sslmode")),
    ):
        if value:
            env[var] = str(value)
    return env


def _run(command: list[str], url: URL) -> None:
    done = subprocess.run(
        command, env=_pg_environment(url), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()}")


def _pg_dump(engine: Engine, dump: Path) -> None:
    _run([require_tool("pg_dump"), "-Fc", "--no-owner", "--no-acl", "-f", str(dump)], engine.url)


def _pg_restore(engine: Engine, dump: Path, *, clean: bool) -> None:
    command = [require_tool("pg_restore"), "--no-owner", "--no-acl", "--exit-on-error"]
    command += ["--single-transaction", "-d", str(engine.url.database)]
    if clean:
        command += ["--clean", "--if-exists"]
    _run([*command, str(dump)], engine.url)


# -- helpers --------------------------------------------------------------------------------
def _kind(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in _DUMPS:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {name}.")
    return name


def _sqlite_path(engine: Engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:":
        raise BackupError("An in-memory SQLite database has nothing to back up.")
    return path


def table_counts(engine: Engine) -> dict[str, int]:
    """The number of rows of every table, by name."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {
            name: int(conn.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in sorted(meta.tables.items())
        }


def _counts_sqlite(dump: Path) -> dict[str, int]:
    copy = sqlite3.connect(dump)
    try:
        names = [
            r[0]
            for r in copy.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {n: int(copy.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}
    finally:
        copy.close()
