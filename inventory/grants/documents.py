"""The documents kept with a dossier (convention, award decision, invoices, proofs)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from inventory.core import uploads
from inventory.core.policy import Action, Subject
from inventory.core.storage import Storage
from inventory.grants.common import GrantError, Upload, accept_upload, commit_with_file, require
from inventory.grants.models import Dossier, DossierDocument

DOCUMENT_KINDS = {
    "convention": _l("convention"),
    "decision": _l("award decision"),
    "invoice": _l("invoice"),
    "proof": _l("proof of payment"),
    "other": _l("other"),
}


def add_document(
    session: Session,
    user: Subject,
    dossier: Dossier,
    kind: str,
    upload: Upload,
    upload_dir: Storage,
) -> DossierDocument:
    require(user, Action.FINANCE, dossier, session)
    if kind not in DOCUMENT_KINDS:
        raise GrantError(_l("Choose the kind of document."), field="kind")
    content_type = accept_upload(upload, "file")
    written = uploads.store(upload_dir, upload.data, content_type)
    doc = DossierDocument(
        dossier=dossier,
        kind=kind,
        filename=uploads.clean_filename(upload.filename, "fichier"),
        stored_name=written,
        content_type=content_type,
        size=len(upload.data),
    )
    session.add(doc)
    commit_with_file(session, upload_dir, written)
    return doc


def delete_document(
    session: Session, user: Subject, doc: DossierDocument, upload_dir: Storage
) -> None:
    require(user, Action.FINANCE, doc, session)
    name = doc.stored_name
    session.delete(doc)
    session.commit()
    uploads.remove(upload_dir, name)
