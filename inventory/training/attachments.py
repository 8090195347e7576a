"""Files kept with a session (slides, the signed attendance sheet, photos), stored outside
static/ by :mod:`inventory.core.uploads` and served through the policy."""

from __future__ import annotations

from sqlalchemy.orm import Session

from inventory.core import uploads
from inventory.core.policy import Subject
from inventory.core.storage import Storage
from inventory.training.editing import commit, require_editable
from inventory.training.models import TrainingDocument, TrainingSession

DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
DOCUMENT_TYPES = (uploads.PDF, uploads.JPEG, uploads.PNG, uploads.ODP, uploads.PPTX, uploads.DOCX)
#: Types a browser may show inline; anything else is downloaded.
INLINE_TYPES = frozenset({uploads.JPEG, uploads.PNG})


def add_document(
    session: Session,
    user: Subject,
    ts: TrainingSession,
    filename: str,
    data: bytes,
    directory: Storage,
) -> TrainingDocument:
    """Keep a file of the session under ``directory``; the file goes if the save fails."""
    require_editable(session, user, ts)
    content_type = uploads.accept(data, DOCUMENT_TYPES, DOCUMENT_MAX_BYTES, "file")
    name = uploads.store(directory, data, content_type)
    doc = TrainingDocument(
        filename=uploads.clean_filename(filename, "document"),
        stored_name=name,
        content_type=content_type,
        size=len(data),
    )
    ts.documents.append(doc)
    try:
        commit(session)
    except Exception:
        session.rollback()
        uploads.remove(directory, name)
        raise
    return doc


def delete_document(
    session: Session, user: Subject, doc: TrainingDocument, directory: Storage
) -> TrainingSession:
    """Remove a file of the session, then its stored copy once the removal is saved."""
    ts = doc.session
    require_editable(session, user, ts)
    name = doc.stored_name
    ts.documents.remove(doc)
    commit(session)
    uploads.remove(directory, name)
    return ts
