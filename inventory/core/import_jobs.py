"""Large web imports as jobs: an upload above ``IMPORT_INLINE_MAX_BYTES`` (2 MiB by default)
is saved in the instance folder and imported by a job whose progress page shows the same
report; smaller ones stay in the request. The saved files are deleted once imported, or by
the periodic clean-up after ``IMPORT_FILES_RETENTION_DAYS`` (kept meanwhile for a retry)."""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import current_app

from inventory.core import jobs
from inventory.core.importing import ImportReport, Rejection, RowMessage

DEFAULT_INLINE_MAX_BYTES = 2 * 1024 * 1024


def folder() -> Path:
    return Path(current_app.instance_path) / "imports"


def too_large_for_a_request(data: bytes) -> bool:
    limit = current_app.config.get("IMPORT_INLINE_MAX_BYTES", DEFAULT_INLINE_MAX_BYTES)
    return len(data) > int(limit)


def save_upload(data: bytes, filename: str) -> str:
    """Keep an upload for its job; the stored name keeps the extension (CSV or XLSX)."""
    suffix = Path(filename).suffix.lower()[:8]
    name = f"{secrets.token_hex(16)}{suffix}"
    folder().mkdir(parents=True, exist_ok=True)
    (folder() / name).write_bytes(data)
    return name


def read_upload(name: str) -> bytes:
    return (folder() / Path(name).name).read_bytes()


def forget_upload(name: str) -> None:
    (folder() / Path(name).name).unlink(missing_ok=True)


def report_to_json(report: ImportReport) -> dict[str, Any]:
    return {
        "counts": dict(report.counts),
        "rejected": [asdict(r) for r in report.rejected],
        "notes": [str(n) for n in report.notes],
        "skipped_rows": [asdict(r) for r in report.skipped_rows],
        "warnings": [asdict(r) for r in report.warnings],
        "changes": [asdict(r) for r in report.changes],
        "rows": report.rows,
    }


def report_from_json(data: dict[str, Any]) -> ImportReport:
    return ImportReport(
        counts=dict(data["counts"]),
        rejected=[Rejection(**r) for r in data["rejected"]],
        notes=list(data["notes"]),
        skipped_rows=[RowMessage(**r) for r in data["skipped_rows"]],
        warnings=[RowMessage(**r) for r in data["warnings"]],
        changes=[RowMessage(**r) for r in data["changes"]],
        rows=int(data["rows"]),
    )


@jobs.periodic(minute="43", hour="*")
def delete_old_uploads() -> None:
    days = float(current_app.config.get("IMPORT_FILES_RETENTION_DAYS", 7))
    oldest = time.time() - days * 86400
    if folder().is_dir():
        for path in folder().iterdir():
            if path.is_file() and path.stat().st_mtime < oldest:
                path.unlink(missing_ok=True)
