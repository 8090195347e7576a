"""Files in one store: uploads, generated PDFs and packs, whatever machine asks for them.

One interface (:class:`Storage`) with two backends: a local folder (the default, under the
instance folder or ``STORAGE_PATH``) for one machine, and an S3-compatible bucket
(``STORAGE_URL=s3://bucket/prefix``) for several web and job workers on several machines.
A domain keeps its files in a :meth:`Storage.folder` of the store (``uploads/assets``,
``generated/labels``…) and names them by key: ``/``-separated parts of letters, digits,
``_``, ``-`` and ``.``, never starting with a dot. Nothing a user typed is ever a key.

Files under ``generated/`` can be made again from the database (label PDFs, evidence
packs): :func:`purge_generated` deletes the old ones, and a backup may leave them out.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError
from flask import Flask, abort, current_app, send_file
from werkzeug.wrappers import Response

GENERATED = "generated"
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*")
_EXTENSION = "socle.storage"


class StorageError(Exception):
    """The store cannot do what was asked (a bad key, an unreachable bucket)."""


@dataclass(frozen=True)
class StoredFile:
    """One file of a store: its key (relative to the store asked), size and last change."""

    key: str
    size: int
    modified: datetime


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key) or ".." in key.split("/"):
        raise StorageError(f"not a storage key: {key!r}")
    return key


class Storage(ABC):
    """Where files are kept. Keys are relative to the store (or to the folder asked)."""

    @abstractmethod
    def save(self, key: str, data: bytes | IO[bytes]) -> None:
        """Keep ``data`` (bytes, or a binary stream read to its end) under ``key``,
        replacing what was there; a reader never sees half a file."""

    @abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """The file's content as a binary stream, to close after use;
        :class:`FileNotFoundError` when there is none."""

    @abstractmethod
    def stat(self, key: str) -> StoredFile | None:
        """The file's size and last change, or None when there is none."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the file; nothing happens when there is none."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[StoredFile]:
        """Every file whose key starts with ``prefix``, in key order."""

    def read(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    def local_path(self, key: str) -> Path | None:
        """The file on this machine's disk when the backend keeps it there (sent with the
        web server's own file handling), else None."""
        return None

    def folder(self, name: str) -> Storage:
        """The part of this store under ``name``: the same interface, keys relative to it."""
        return Folder(self, check_key(name))


class Folder(Storage):
    """A prefix of another store."""

    def __init__(self, parent: Storage, prefix: str) -> None:
        self.parent = parent
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{check_key(key)}"

    def save(self, key: str, data: bytes | IO[bytes]) -> None:
        self.parent.save(self._key(key), data)

    def open(self, key: str) -> IO[bytes]:
        return self.parent.open(self._key(key))

    def stat(self, key: str) -> StoredFile | None:
        found = self.parent.stat(self._key(key))
        return None if found is None else StoredFile(key, found.size, found.modified)

    def delete(self, key: str) -> None:
        self.parent.delete(self._key(key))

    def list(self, prefix: str = "") -> Iterator[StoredFile]:
        cut = len(self.prefix) + 1
        for f in self.parent.list(f"{self.prefix}/{prefix}"):
            yield StoredFile(f.key[cut:], f.size, f.modified)

    def local_path(self, key: str) -> Path | None:
        return self.parent.local_path(self._key(key))

    def folder(self, name: str) -> Storage:
        return Folder(self.parent, self._key(name))


class LocalStorage(Storage):
    """Files in a folder of this machine."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def save(self, key: str, data: bytes | IO[bytes]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside, then renamed: a reader sees the old file or the whole new one.
        # The temporary name starts with a dot, which no key does: never listed.
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, bytes):
                    out.write(data)
                else:
                    shutil.copyfileobj(data, out)
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> IO[bytes]:
        return self._path(key).open("rb")

    def stat(self, key: str) -> StoredFile | None:
        path = self._path(key)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        if not path.is_file():
            return None
        return StoredFile(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[StoredFile]:
        # The deepest folder the prefix names whole, walked, and its files filtered.
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        top = self.root / base if base else self.root
        if not top.is_dir():
            return
        found: list[StoredFile] = []
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix) and _KEY.fullmatch(key):
                    st = path.stat()
                    found.append(
                        StoredFile(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))
                    )
        yield from sorted(found, key=lambda f: f.key)

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None


class S3Storage(Storage):
    """Files in a bucket of Amazon S3 or of any service speaking its API (MinIO, Garage,
    Ceph, the hosting providers' object stores), under an optional prefix."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _relative(self, name: str) -> str:
        return name[len(self.prefix) + 1 :] if self.prefix else name

    def save(self, key: str, data: bytes | IO[bytes]) -> None:
        if isinstance(data, bytes):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        else:
            self.client.upload_fileobj(data, self.bucket, self._key(key))

    def open(self, key: str) -> IO[bytes]:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from exc
            raise
        body: IO[bytes] = answer["Body"]
        return body

    def stat(self, key: str) -> StoredFile | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return StoredFile(key, int(head["ContentLength"]), head["LastModified"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list(self, prefix: str = "") -> Iterator[StoredFile]:
        full = f"{self.prefix}/{prefix}" if self.prefix else prefix
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=full
        )
        for page in pages:  # S3 lists keys in order already
            for item in page.get("Contents", ()):
                key = self._relative(item["Key"])
                if _KEY.fullmatch(key):
                    yield StoredFile(key, int(item["Size"]), item["LastModified"])


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


# -- the application's store ---------------------------------------------------------------
def from_config(config: Any, instance_path: str) -> Storage:
    """The store the configuration names: ``STORAGE_URL`` (``s3://bucket/prefix``, with
    ``S3_ENDPOINT_URL``, ``S3_REGION`` and the usual ``AWS_*`` credentials, from the
    configuration or boto3's own sources), else the folder ``STORAGE_PATH`` (by default
    ``files`` in the instance folder)."""
    url = config.get("STORAGE_URL")
    if url:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise StorageError(f"STORAGE_URL must read s3://bucket/prefix, not {url!r}")
        options = {
            "endpoint_url": config.get("S3_ENDPOINT_URL") or None,
            "region_name": config.get("S3_REGION") or None,
            "aws_access_key_id": config.get("AWS_ACCESS_KEY_ID") or None,
            "aws_secret_access_key": config.get("AWS_SECRET_ACCESS_KEY") or None,
        }
        client = boto3.session.Session().client(
            "s3", **{k: v for k, v in options.items() if v is not None}
        )
        return S3Storage(client, parts.netloc, parts.path)
    return LocalStorage(Path(config.get("STORAGE_PATH") or Path(instance_path) / "files"))


def install(app: Flask) -> None:
    """Build the application's store once; every request and job of the app shares it."""
    app.extensions[_EXTENSION] = from_config(app.config, app.instance_path)


def of(app: Flask) -> Storage:
    """The store of ``app`` (for the CLI, jobs and tests, which hold the app itself)."""
    store: Storage = app.extensions[_EXTENSION]
    return store


def current() -> Storage:
    """The store of the application in context."""
    return of(current_app._get_current_object())  # type: ignore[attr-defined]


# -- downloads -----------------------------------------------------------------------------
def send_private(
    store: Storage,
    key: str | None,
    mimetype: str,
    download_name: str,
    *,
    as_attachment: bool = False,
) -> Response:
    """A stored file to a user the route has authorised: never cached by a proxy, never
    sniffed into another type; 404 when there is no key or no such file."""
    if not key:
        abort(404)
    path = store.local_path(key)
    if path is not None:
        response = send_file(
            path,
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            max_age=0,
        )
    else:
        found = store.stat(key)
        if found is None:
            abort(404)
        # A bucket's stream cannot seek: the whole file, no ranges.
        response = send_file(
            store.open(key),
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            conditional=False,
            etag=False,
            last_modified=found.modified,
            max_age=0,
        )
        response.content_length = found.size
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# -- generated files -----------------------------------------------------------------------
def delete_older(store: Storage, older_than: datetime) -> list[str]:
    """Delete the files of ``store`` (often a folder of it) last changed before
    ``older_than``; returns their keys. The clean-ups of generated files call it."""
    gone = []
    for f in list(store.list()):
        if f.modified < older_than:
            store.delete(f.key)
            gone.append(f.key)
    return gone


def purge_generated(store: Storage, older_than: timedelta, now: datetime) -> list[str]:
    """Delete the generated files (under ``generated/``) last changed before
    ``now - older_than``; returns their keys. ``flask storage purge`` calls it (the
    periodic clean-up keeps each kind of file its own time, ``core.jobs.keep_files``):
    these files can be made again from the database."""
    gone = delete_older(store.folder(GENERATED), now - older_than)
    return [f"{GENERATED}/{key}" for key in gone]
