"""Static files named by their content, and kept by browsers for a year.

Every URL the app builds for a static file carries a short hash of the file
(``/static/css/socle.css?v=3f9a1c2b7d04``): the browser keeps the file without asking
again, and a release that changes the file changes its URL. Without it, every page asked
again for its style sheet, its scripts and its icon (each answered "not modified": a round
trip each, on a school's slow, filtered connection, and three requests more for the
server per page). A request for a file without its hash, or with another one (a page
cached from before a release), is answered as before: to be checked again next time."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600


class StaticVersions:
    """The hash of each static file, read again when the file changes (a developer's
    edit); kept per process, one short string per file."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._known: dict[str, tuple[int, str]] = {}

    def of(self, filename: str) -> str | None:
        path = safe_join(self.folder, filename)
        if path is None:
            return None
        try:
            changed = Path(path).stat().st_mtime_ns
        except OSError:
            return None
        known = self._known.get(filename)
        if known is not None and known[0] == changed:
            return known[1]
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
        self._known[filename] = (changed, digest)
        return digest


def install(app: Flask) -> None:
    if app.static_folder is None:
        return
    versions = StaticVersions(app.static_folder)

    @app.url_defaults
    def _with_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or "v" in values:
            return
        if (version := versions.of(values.get("filename", ""))) is not None:
            values["v"] = version

    @app.after_request
    def _kept_a_year(response: Response) -> Response:
        if (
            request.endpoint == "static"
            and response.status_code in (200, 304)
            and (wanted := request.args.get("v"))
            and wanted == versions.of((request.view_args or {}).get("filename", ""))
        ):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        return response
