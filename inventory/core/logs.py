"""The app's logs: plain text by default, one JSON object a line with ``LOG_FORMAT=json``
(for a collector: Loki, Elasticsearch, journald's JSON…).

The app's logger and the rate limiter's (which says when it falls back to memory and when
Redis is back) write through the same handler.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

# Loggers that write through the app's handler, besides the app's own.
SHARED_LOGGERS = ("flask-limiter",)
# The attributes every LogRecord has: anything else was passed in ``extra=`` and is kept.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time (UTC), level, logger, message, the request's path
    and id when there is one, fields given in ``extra=``, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["method"] = request.method
            entry["path"] = request.path
            entry["request_id"] = request_id()
        entry.update((key, value) for key, value in record.__dict__.items() if key not in _STANDARD)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def request_id() -> str:
    """A short random id shared by the log lines of one request, made by the first line
    that asks for it (most requests log nothing, and pay nothing)."""
    if "request_id" not in g:
        g.request_id = secrets.token_hex(4)
    return str(g.request_id)


class _Marked(logging.StreamHandler):
    """The handler this module adds, known again when a second app is made in the process."""


def configure(app: Flask) -> None:
    fmt = str(app.config.get("LOG_FORMAT") or "text").lower()
    formatter: logging.Formatter
    if fmt == "json":
        formatter = JsonFormatter()
    else:
        formatter = logging.Formatter("[%(asctime)s] %(levelname)s in %(name)s: %(message)s")
    handler = _Marked()
    handler.setFormatter(formatter)
    level = app.config.get("LOG_LEVEL") or "INFO"
    for logger in (app.logger, *(logging.getLogger(name) for name in SHARED_LOGGERS)):
        # Flask's default handler would write each record a second time.
        for old in [h for h in logger.handlers if isinstance(h, _Marked) or h is default_handler]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger is not app.logger:
            logger.setLevel(level)
