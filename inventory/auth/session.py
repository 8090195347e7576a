"""Flask-Login wiring: how a session cookie becomes a user, and how a session ends.

The session lives in a signed cookie, so the server keeps two things that a cookie saved by
someone else cannot outlive:

- the user's ``session_token``, part of the id the cookie carries: signing out (or a new
  password) draws a new one, so a cookie copied before is refused by :func:`load_user`;
- the moments the session began and was last used, signed into the cookie: a session older
  than ``PERMANENT_SESSION_LIFETIME``, or unused for ``SESSION_IDLE_MINUTES``, is refused
  whatever expiry the browser was told.
"""

from __future__ import annotations

import secrets
import time

from flask import current_app, session
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from sqlalchemy.orm import Session

from inventory.auth.models import User
from inventory.extensions import db, login_manager

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"

_BEGAN = "began_at"
_SEEN = "seen_at"
# The last-use stamp is rewritten at most this often (each rewrite sends a new cookie).
_SEEN_EVERY = 60


def begin_session(user: User) -> None:
    """Sign ``user`` in on this request's session, with its lifetime starting now."""
    login_user(user)
    now = int(time.time())
    # The cookie stays a browser-session one (not ``permanent``): Flask-Login's "strong"
    # protection ends a session moved to another address only for those; the lifetime is
    # kept here, on the server's clock, rather than by the browser's expiry.
    session[_BEGAN] = now
    session[_SEEN] = now


def end_sessions(db_session: Session, user: User) -> None:
    """End every session of ``user`` on the server: the cookies they hold no longer match."""
    user.session_token = secrets.token_hex(16)
    db_session.commit()


def _within_lifetime() -> bool:
    """Whether this request's session began and was last used recently enough."""
    now = int(time.time())
    began, seen = session.get(_BEGAN), session.get(_SEEN)
    if not isinstance(began, int) or not isinstance(seen, int):
        return False
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    idle = int(current_app.config["SESSION_IDLE_MINUTES"]) * 60
    if now - began > lifetime or now - seen > idle:
        return False
    if now - seen >= _SEEN_EVERY:
        session[_SEEN] = now
    return True


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    uid, _, token = user_id.partition(":")
    if not uid.isdigit() or not _within_lifetime():
        return None
    user = db.session.get(User, int(uid))
    if user is None or not user.active or user.session_token != token:
        return None
    return user
