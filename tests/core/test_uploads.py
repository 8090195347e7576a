"""Uploaded files: kinds told by their content alone, the limits and messages each domain
keeps, and stored files found back only through the names the store gives."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from flask import Flask

from inventory.assets import photos as asset_photos
from inventory.core import uploads
from inventory.core.errors import DomainError
from inventory.core.storage import LocalStorage
from inventory.core.uploads import UploadError
from inventory.grants import common as grants
from inventory.helpdesk import photos
from inventory.training import attachments as training

MB = 1024 * 1024


def zipped(parts: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            # OpenDocument wants its mimetype part first and not compressed.
            kind = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            z.writestr(zipfile.ZipInfo(name), text, compress_type=kind)
    return buf.getvalue()


def odf(mimetype: str) -> bytes:
    return zipped(
        {
            "mimetype": mimetype,
            "META-INF/manifest.xml": (
                '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
                'manifest:1.0"><manifest:file-entry manifest:full-path="/" '
                f'manifest:media-type="{mimetype}"/></manifest:manifest>'
            ),
            "content.xml": "<office:document-content/>",
        }
    )


def ooxml(main_part: str, main_type: str) -> bytes:
    return zipped(
        {
            "[Content_Types].xml": (
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/{main_part}" ContentType="{main_type}"/></Types>'
            ),
            "_rels/.rels": (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
                '.org/officeDocument/2006/relationships/officeDocument" '
                f'Target="{main_part}"/></Relationships>'
            ),
            main_part: "<x/>",
        }
    )


ODP_FILE = odf(uploads.ODP)
PPTX_FILE = ooxml(
    "ppt/presentation.xml",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
)
DOCX_FILE = ooxml(
    "word/document.xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
)
PDF_FILE = b"%PDF-1.7\n" + bytes(32)
PNG_FILE = b"\x89PNG\r\n\x1a\n" + bytes(32)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PDF_FILE, uploads.PDF),
        (b"\xff\xd8\xff\xe0" + bytes(32), uploads.JPEG),
        (PNG_FILE, uploads.PNG),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(32), uploads.WEBP),
        (ODP_FILE, uploads.ODP),
        (PPTX_FILE, uploads.PPTX),
        (DOCX_FILE, uploads.DOCX),
        # Not one of ours, whatever the name it came with.
        (b"", None),
        (b"GIF89a" + bytes(32), None),
        (b"<html>%PDF-1.7</html>", None),
        (b"MZ\x90\x00" + bytes(32), None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32), None),
        (b"PK\x03\x04 not really a zip", None),
        (odf("application/vnd.oasis.opendocument.text"), None),
        (ooxml("xl/workbook.xml", "application/xml"), None),
        (zipped({"ppt/presentation.xml": "<x/>"}), None),
    ],
)
def test_kinds_are_told_by_the_content_only(data: bytes, kind: str | None) -> None:
    assert uploads.sniff(data) == kind


def test_a_large_mimetype_part_is_not_read() -> None:
    # A zip bomb posing as OpenDocument: its mimetype part is never inflated.
    assert uploads.sniff(zipped({"mimetype": uploads.ODP + " " * 200})) is None


# What each domain accepts, and the messages its users have always read.
DOMAINS = {
    "asset photos": (
        asset_photos.PHOTO_TYPES,
        asset_photos.PHOTO_MAX_BYTES,
        "Choose a photo.",
        "A photo may weigh at most 5 MB.",
        "Send a JPEG, PNG or WebP photo.",
    ),
    "grant files": (
        grants.FILE_TYPES,
        grants.MAX_FILE_BYTES,
        "Choose a file.",
        "A file may weigh at most 10 MB.",
        "Send a PDF, JPEG or PNG file.",
    ),
    "training documents": (
        training.DOCUMENT_TYPES,
        training.DOCUMENT_MAX_BYTES,
        "Choose a file.",
        "A file may weigh at most 20 MB.",
        "Send a PDF, JPEG, PNG, ODP, PPTX or DOCX file.",
    ),
}


def refusal(data: bytes, kinds: Sequence[str], max_bytes: int) -> str:
    with pytest.raises(UploadError) as err:
        uploads.accept(data, kinds, max_bytes, "file")
    assert isinstance(err.value, DomainError) and err.value.field == "file"
    return str(err.value.message)


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_domain_refuses_empty_too_big_and_other_kinds(domain: str) -> None:
    kinds, max_bytes, empty, too_big, other = DOMAINS[domain]
    ok = PNG_FILE if uploads.PNG in kinds else PDF_FILE
    assert refusal(b"", kinds, max_bytes) == empty
    assert refusal(ok + bytes(max_bytes), kinds, max_bytes) == too_big
    assert refusal(b"GIF89a" + bytes(32), kinds, max_bytes) == other
    assert uploads.accept(ok + bytes(max_bytes - len(ok)), kinds, max_bytes, "file") == (
        uploads.sniff(ok)
    )


def test_a_known_kind_is_refused_where_it_is_not_accepted() -> None:
    assert refusal(DOCX_FILE, grants.FILE_TYPES, MB) == "Send a PDF, JPEG or PNG file."
    assert refusal(PNG_FILE, (uploads.PDF,), MB) == "Send a PDF file."
    assert uploads.accept(DOCX_FILE, training.DOCUMENT_TYPES, MB, "file") == uploads.DOCX


def test_a_reporters_photo_has_its_own_limit() -> None:
    with pytest.raises(UploadError) as err:
        photos.reencode(PNG_FILE + bytes(photos.MAX_BYTES))
    assert str(err.value.message) == "A photo may weigh at most 8 MB."
    assert err.value.field == "photo"


FRENCH = {
    "asset photos": (
        "Choisissez une photo.",
        "Une photo ne peut pas dépasser 5 Mo.",
        "Envoyez une photo au format JPEG, PNG ou WebP.",
    ),
    "grant files": (
        "Choisissez un fichier.",
        "Un fichier ne peut pas dépasser 10 Mo.",
        "Envoyez un fichier PDF, JPEG ou PNG.",
    ),
    "training documents": (
        "Choisissez un fichier.",
        "Un fichier ne peut pas dépasser 20 Mo.",
        "Envoyez un fichier PDF, JPEG, PNG, ODP, PPTX ou DOCX.",
    ),
}


@pytest.mark.parametrize("domain", DOMAINS)
def test_refusals_read_as_before_in_french(app: Flask, domain: str) -> None:
    kinds, max_bytes, *_ = DOMAINS[domain]
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        got = tuple(
            refusal(data, kinds, max_bytes)
            for data in (b"", PDF_FILE + bytes(max_bytes), b"GIF89a")
        )
    assert got == FRENCH[domain]


def test_a_stored_file_is_found_back_by_its_name(tmp_path: Path) -> None:
    folder = LocalStorage(tmp_path / "not" / "yet" / "there").folder("uploads")
    name = uploads.store(folder, DOCX_FILE, uploads.DOCX)
    assert re.fullmatch(r"[0-9a-f]{32}\.docx", name)
    assert uploads.stored_key(name) == name and folder.read(name) == DOCX_FILE
    assert (tmp_path / "not" / "yet" / "there" / "uploads" / name).read_bytes() == DOCX_FILE
    assert uploads.content_type_of(name) == uploads.DOCX
    assert uploads.store(folder, DOCX_FILE, uploads.DOCX) != name
    uploads.remove(folder, name)
    assert not folder.exists(name)
    uploads.remove(folder, name)  # already gone: nothing to do


def test_only_the_stores_names_lead_to_a_file(tmp_path: Path) -> None:
    folder = LocalStorage(tmp_path).folder("files")
    directory = tmp_path / "files"
    name = uploads.store(folder, PDF_FILE, uploads.PDF)
    (tmp_path / "x").write_bytes(b"secret")
    (tmp_path / name).write_bytes(b"secret")
    (directory / "notes.pdf").write_bytes(PDF_FILE)
    stem = name[:-4]
    (directory / ("A" * 32 + ".pdf")).write_bytes(PDF_FILE)
    for odd in (
        None,
        "",
        "../x",
        f"../{name}",
        str(tmp_path / name),
        "notes.pdf",
        stem,
        f"{stem}.exe",
        f"{stem}.PDF",
        "A" * 32 + ".pdf",
        f"{stem[1:]}.pdf",
        f"{stem}.pdf/",
        f"{stem}.pdf\n",
        f"{stem}.pdf.exe",
    ):
        assert uploads.stored_key(odd) is None, odd
        uploads.remove(folder, odd)
    assert (tmp_path / "x").exists() and (tmp_path / name).exists()
    assert (directory / "notes.pdf").exists()
    assert uploads.stored_key(name) == name and folder.exists(name)


def test_an_unknown_extension_is_served_as_plain_bytes() -> None:
    assert uploads.content_type_of("0" * 32 + ".jpg") == uploads.JPEG
    assert uploads.content_type_of("0" * 32 + ".exe") == "application/octet-stream"


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("facture 2024.pdf", "facture 2024.pdf"),
        ("C:\\Users\\élise\\Diapos.pptx", "Diapos.pptx"),
        ("../../etc/passwd", "passwd"),
        ("bad\x00na\x1fme\x7f.pdf", "badname.pdf"),
        ("  ", "fichier"),
        ("", "fichier"),
        (None, "fichier"),
        ("x" * 300 + ".pdf", "x" * 200),
    ],
)
def test_the_shown_name_keeps_the_users_file_name_only(given: str | None, shown: str) -> None:
    assert uploads.clean_filename(given, "fichier") == shown
