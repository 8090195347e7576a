"""A session's files: adding one, reading it, deleting it."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from inventory.core import policy, uploads
from inventory.core.policy import Action
from inventory.core.storage import send_private
from inventory.extensions import db
from inventory.training import attachments
from inventory.training.editing import TrainingError
from inventory.training.forms import DocumentForm
from inventory.training.models import TrainingDocument, TrainingSession
from inventory.training.views.blueprint import bp, documents_folder, load_session
from inventory.training.views.sessions import detail_page
from inventory.web import allow, attach_error


# -- attachments ---------------------------------------------------------------------------
@bp.post("/accompagnement/<int:session_id>/documents")
@allow(Action.TRAIN, on=(TrainingSession, "session_id"))
def upload(session_id: int) -> str | Response | tuple[str, int]:
    ts = load_session(session_id, Action.TRAIN)
    form = DocumentForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(attachments.DOCUMENT_MAX_BYTES + 1)
        try:
            attachments.add_document(
                db.session, current_user, ts, upload.filename or "", data, documents_folder()
            )
        except (TrainingError, uploads.UploadError) as exc:
            db.session.rollback()
            ts = load_session(session_id, Action.TRAIN)
            attach_error(form, exc, "file")
        else:
            flash(_("Document added."), "success")
            return redirect(url_for("training.detail", session_id=ts.id, _anchor="documents"))
    return detail_page(ts, document_form=form), 422


@bp.get("/accompagnement/documents/<int:document_id>")
@allow(Action.READ, on=(TrainingDocument, "document_id"))
def document(document_id: int) -> Response:
    doc = policy.load_or_404(current_user, TrainingDocument, document_id, db.session)
    return send_private(
        documents_folder(),
        uploads.stored_key(doc.stored_name),
        doc.content_type,
        doc.filename,
        as_attachment=doc.content_type not in attachments.INLINE_TYPES,
    )


@bp.post("/accompagnement/documents/<int:document_id>/supprimer")
@allow(Action.TRAIN, on=(TrainingDocument, "document_id"))
def delete_document(document_id: int) -> Response:
    doc = policy.load_or_404(current_user, TrainingDocument, document_id, db.session, Action.TRAIN)
    session_id = doc.session_id
    if FlaskForm().validate_on_submit():
        attachments.delete_document(db.session, current_user, doc, documents_folder())
        flash(_("Document deleted."), "success")
    return redirect(url_for("training.detail", session_id=session_id, _anchor="documents"))
