"""Equipment spreadsheets: import (CSV/XLSX) with its template, and exports of any list."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("assets_io", __name__)
