"""How label formats and scan tokens read in the history and the journal."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from inventory.core.describe import describe
from inventory.labels.models import LabelFormat, ScanToken


def init_app(_app: Flask) -> None:
    describe(
        ScanToken,
        _l("Label QR code"),
        {
            "token": _l("Code"),
            "asset_id": _l("Equipment item"),
            "classroom_id": _l("Classroom"),
            "created_at": _l("Created on"),
            "revoked_at": _l("Revoked on"),
            "matrix": _l("Matrix"),
            "matrix_url": _l("Address in the matrix"),
        },
        show="token",
    )
    describe(
        LabelFormat,
        _l("Label format"),
        {
            "code": _l("Code"),
            "name": _l("Name"),
            "columns": _l("Columns"),
            "rows": _l("Rows"),
        },
    )
