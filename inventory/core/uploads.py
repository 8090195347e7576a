"""Uploaded files: their kind told by their content, their size limit, and their keeping.

A file's kind is never taken from its name or the browser's word: a page renamed photo.png
must not be served back as an image. A stored file is named at random (32 hex digits and
its kind's extension) so that nothing the user typed ever reaches the file system, and is
read back only through a name of that form. Files are kept in a folder of the application's
store (:mod:`inventory.core.storage`), on this machine's disk or in an S3 bucket.
"""

from __future__ import annotations

import io
import re
import secrets
import zipfile
from collections.abc import Sequence
from pathlib import Path

from flask_babel import lazy_gettext as _l

from inventory.core.errors import DomainError
from inventory.core.storage import Storage

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
ODP = "application/vnd.oasis.opendocument.presentation"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

#: Every known kind: content type -> (extension of the stored file, name shown to users).
KINDS: dict[str, tuple[str, str]] = {
    PDF: (".pdf", "PDF"),
    JPEG: (".jpg", "JPEG"),
    PNG: (".png", "PNG"),
    WEBP: (".webp", "WebP"),
    ODP: (".odp", "ODP"),
    PPTX: (".pptx", "PPTX"),
    DOCX: (".docx", "DOCX"),
}
_STORED = re.compile("[0-9a-f]{32}(?:" + "|".join(re.escape(e) for e, _ in KINDS.values()) + ")")
_MB = 1024 * 1024


class UploadError(DomainError):
    pass


def sniff(data: bytes) -> str | None:
    """The known kind of ``data`` told by its content only (magic bytes, and for the zipped
    office formats the parts that name them), or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    return None


def _sniff_zip(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                # OpenDocument names its type in a first, tiny part; read no more of a
                # large one (a zip bomb would be inflated in memory).
                info = archive.getinfo("mimetype")
                if info.file_size <= 100 and archive.read(info).strip() == ODP.encode():
                    return ODP
                return None
            if "[Content_Types].xml" in names:
                if "ppt/presentation.xml" in names:
                    return PPTX
                if "word/document.xml" in names:
                    return DOCX
    except (zipfile.BadZipFile, KeyError, ValueError, NotImplementedError, RuntimeError):
        return None
    return None


def check_size(data: bytes, max_bytes: int, field: str, *, photo: bool = False) -> None:
    """Refuse empty data or more than ``max_bytes``: ``accept`` does it, and a caller that
    tells the kind in its own way (a photo decoded by Pillow) calls it alone."""
    if not data:
        raise UploadError(_l("Choose a photo.") if photo else _l("Choose a file."), field=field)
    if len(data) > max_bytes:
        mb = max_bytes // _MB
        raise UploadError(
            _l("A photo may weigh at most %(mb)d MB.", mb=mb)
            if photo
            else _l("A file may weigh at most %(mb)d MB.", mb=mb),
            field=field,
        )


def accept(data: bytes, kinds: Sequence[str], max_bytes: int, field: str) -> str:
    """The content type of ``data`` when it is one of ``kinds`` (content types, in the order
    the refusal names them) and weighs at most ``max_bytes``; else :class:`UploadError` on
    ``field``. Uploads of images only are called photos in the messages."""
    photo = all(kind.startswith("image/") for kind in kinds)
    check_size(data, max_bytes, field, photo=photo)
    content_type = sniff(data)
    if content_type is not None and content_type in kinds:
        return content_type
    names = [KINDS[kind][1] for kind in kinds]
    listed = (
        _l("%(first)s or %(last)s", first=", ".join(names[:-1]), last=names[-1])
        if len(names) > 1
        else names[0]
    )
    raise UploadError(
        _l("Send a %(kinds)s photo.", kinds=listed)
        if photo
        else _l("Send a %(kinds)s file.", kinds=listed),
        field=field,
    )


def store(folder: Storage, data: bytes, content_type: str) -> str:
    """Keep ``data`` (of a kind ``accept`` returned) under a new random name; returns it.
    (128 random bits: two names never meet.)"""
    name = secrets.token_hex(16) + KINDS[content_type][0]
    folder.save(name, data)
    return name


def stored_key(stored_name: str | None) -> str | None:
    """The name when it is one ``store`` makes, else None: a record's name is the only way
    back to its file."""
    if not stored_name or not _STORED.fullmatch(stored_name):
        return None
    return stored_name


def remove(folder: Storage, stored_name: str | None) -> None:
    key = stored_key(stored_name)
    if key is not None:
        folder.delete(key)


def content_type_of(stored_name: str) -> str:
    """The kind of a stored file, for records that keep only its name."""
    ext = Path(stored_name).suffix
    return next((t for t, (e, _) in KINDS.items() if e == ext), "application/octet-stream")


def clean_filename(name: str | None, default: str) -> str:
    """The name the user's file had, to show and to offer on download: no folders, no
    control characters, at most 200 characters."""
    name = Path((name or "").replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()
    return (name or default)[:200]
