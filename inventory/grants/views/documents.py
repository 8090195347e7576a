"""The documents kept with a dossier: add, read, delete."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.core import policy, uploads
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants import documents
from inventory.grants.common import MAX_FILE_BYTES, GrantError, Upload
from inventory.grants.forms import DocumentForm, VersionForm
from inventory.grants.models import Dossier, DossierDocument
from inventory.grants.views.blueprint import DOCUMENT, bp, grant_files, send_stored
from inventory.grants.views.dossiers import dossier_page, load_finance
from inventory.web import allow, attach_error


# -- documents -----------------------------------------------------------------------------
@bp.post("/<int:dossier_id>/documents")
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
def add_document(dossier_id: int) -> Response | tuple[str, int]:
    dossier = load_finance(dossier_id)
    form = DocumentForm(prefix=DOCUMENT)
    if form.validate_on_submit():
        file = form.file.data
        upload = Upload(file.filename or "", file.read(MAX_FILE_BYTES + 1))
        try:
            documents.add_document(
                db.session, current_user, dossier, form.kind.data or "", upload, grant_files()
            )
        except (GrantError, uploads.UploadError) as exc:
            db.session.rollback()
            attach_error(form, exc, "file")
        else:
            flash(_("Document added."), "success")
            return redirect(url_for("grants.dossier", dossier_id=dossier.id) + "#documents")
    return dossier_page(dossier_id, document_form=form), 422


@bp.get("/documents/<int:document_id>")
@allow(Action.READ, on=(DossierDocument, "document_id"))
def document(document_id: int) -> Response:
    doc = policy.load_or_404(current_user, DossierDocument, document_id, db.session)
    return send_stored(doc.stored_name, doc.content_type, doc.filename)


@bp.post("/documents/<int:document_id>/supprimer")
@allow(Action.FINANCE, on=(DossierDocument, "document_id"))
def delete_document(document_id: int) -> Response:
    doc = policy.load_or_404(current_user, DossierDocument, document_id, db.session, Action.FINANCE)
    dossier_id = doc.dossier_id
    if not VersionForm().validate_on_submit():
        abort(400)
    documents.delete_document(db.session, current_user, doc, grant_files())
    flash(_("Document deleted."), "success")
    return redirect(url_for("grants.dossier", dossier_id=dossier_id) + "#documents")
