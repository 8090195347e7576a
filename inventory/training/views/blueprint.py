"""The ``training`` blueprint of the accompaniment pages, and what those pages share."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_login import current_user

from inventory.core.policy import Action
from inventory.core.storage import Storage
from inventory.extensions import db
from inventory.training.choices import FORMAT_LABELS, MODE_LABELS, ROLE_LABELS, STATUS_LABELS
from inventory.training.models import TrainingSession
from inventory.training.sessions import session_detail
from inventory.web import language, share_labels, upload_dir

bp = Blueprint("training", __name__)


# Labels of the session enums, for these pages and the school page.
share_labels(
    bp,
    training_status_labels=STATUS_LABELS,
    training_mode_labels=MODE_LABELS,
    training_format_labels=FORMAT_LABELS,
    training_role_labels=ROLE_LABELS,
)


def page_locale() -> str:
    return language()


def documents_folder() -> Storage:
    """Where the sessions' files are stored."""
    return upload_dir("training")


def version_of(form: Any) -> int:
    """The version a form was loaded with (-1, a version no session has, when garbled)."""
    value = form.version.data or ""
    return int(value) if value.isdigit() and len(value) < 10 else -1


def school_label(ecole: Any) -> str:
    return f"{ecole.name} ({ecole.commune.name})"


def load_session(session_id: int, action: Action = Action.READ) -> TrainingSession:
    """The session of the URL, as the user may see it (404 otherwise), fully loaded."""
    return session_detail(db.session, current_user, session_id, action)
