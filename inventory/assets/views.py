"""Equipment pages: list, item, quick add, bulk actions, photos, network works, socle."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("assets", __name__)
