"""The one ``grants`` blueprint (pages under /subventions) and what its pages share: the
forms' prefixes on the dossier page, the labels every grant template reads, the folder of
the grants' files and how a stored file is sent."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

from inventory.core import uploads
from inventory.core.storage import Storage, send_private
from inventory.grants.documents import DOCUMENT_KINDS
from inventory.grants.dossiers import STATUS_LABELS
from inventory.grants.payments import PAYMENT_KIND_LABELS
from inventory.web import share_labels, upload_dir

bp = Blueprint("grants", __name__, url_prefix="/subventions")
# The dossier page holds several forms: prefixes keep their fields' names and ids apart.
STATUS, RULES, PAYMENT, DOCUMENT = "status", "rules", "payment", "document"


share_labels(
    bp,
    dossier_status_labels=STATUS_LABELS,
    payment_kind_labels=PAYMENT_KIND_LABELS,
    document_kinds=DOCUMENT_KINDS,
)


def grant_files() -> Storage:
    """Where the invoices and the dossiers' documents are kept."""
    return upload_dir("grants")


def send_stored(stored_name: str | None, content_type: str, filename: str) -> Response:
    return send_private(
        grant_files(),
        uploads.stored_key(stored_name),
        content_type,
        filename,
        as_attachment=content_type == "application/pdf",
    )
