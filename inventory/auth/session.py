"""Flask-Login wiring: how a session cookie becomes a user."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from inventory.auth.models import User
from inventory.extensions import db, login_manager

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    uid, _, token = user_id.partition(":")
    if not uid.isdigit():
        return None
    user = db.session.get(User, int(uid))
    if user is None or not user.active or user.session_token != token:
        return None
    return user
