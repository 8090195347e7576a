"""Configuration: defaults, then ``instance/config.py``, then the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

DEV_SECRET_KEY = "dev-only-secret-key-change-me"

ENV_KEYS = (
    "DATABASE_URL",
    "SECRET_KEY",
    "REDIS_URL",
    "JOBS_URL",
    "BASE_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USER",
    "SMTP_PASSWORD",
    "SMTP_FROM",
    "SMTP_STARTTLS",
    "TRUSTED_PROXIES",
    "SESSION_IDLE_MINUTES",
    "STORAGE_URL",
    "STORAGE_PATH",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "GENERATED_FILES_DAYS",
    "SESSION_LIFETIME_HOURS",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "METRICS_ALLOWED_IPS",
    "METRICS_TOKEN",
    "WEBHOOKS_ALLOW_PRIVATE",
    "REPORTER_CONTACT_RETENTION_MONTHS",
    "PRIVACY_CONTACT",
)


class Defaults:
    SECRET_KEY = DEV_SECRET_KEY
    DATABASE_URL: str | None = None  # filled from the instance path when unset
    REDIS_URL: str | None = None
    # The address printed in QR codes and mails (core.addresses). Unset, a debug or test app
    # uses the request's host; a production app prints no labels and says why.
    BASE_URL: str | None = None
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    LANGUAGES = ("fr", "en")
    # The locale each language's dates and numbers are written in, when it is not the
    # language itself: English as in Europe (7 Dec 2026, 07/12/2026, 14:30), not the US.
    LANGUAGE_LOCALES = {"en": "en_GB"}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    # A signed-in session ends after this long whatever its use (auth.session), and after
    # this many minutes unused; SESSION_LIFETIME_HOURS in the environment sets the first.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=10)
    SESSION_IDLE_MINUTES = 120
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    SMTP_HOST: str | None = None
    SMTP_PORT = 587
    SMTP_USER: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_FROM = "socle@localhost"
    SMTP_STARTTLS = True
    PAGE_SIZE = 50
    # Where files are kept (core.storage): a folder (STORAGE_PATH, by default "files" in the
    # instance folder), or an S3-compatible bucket for several machines
    # (STORAGE_URL=s3://bucket/prefix, with S3_ENDPOINT_URL, S3_REGION and AWS_* credentials).
    STORAGE_URL: str | None = None
    STORAGE_PATH: str | None = None
    S3_ENDPOINT_URL: str | None = None
    S3_REGION: str | None = None
    # Generated files (label PDFs, evidence packs) older than this are deleted by
    # ``flask storage purge``; the hourly clean-up keeps each kind its own retention
    # (LABEL_FILES_RETENTION_DAYS, EVIDENCE_FILES_RETENTION_DAYS: 7 days by default).
    GENERATED_FILES_DAYS = 7
    # What an import reads of a file before refusing it (core.importing.ReadLimits).
    IMPORT_MAX_ROWS = 300_000
    IMPORT_MAX_COLUMNS = 500
    IMPORT_MAX_LINE_CHARS = 100_000
    IMPORT_MAX_UNPACKED_MB = 512
    # How many reverse proxies sit in front of the app (their X-Forwarded-* are trusted).
    TRUSTED_PROXIES = 0
    LOGIN_LIMITS = ("5 per minute", "20 per hour")
    # "text", or "json": one JSON object a line (core.logs).
    LOG_FORMAT = "text"
    LOG_LEVEL = "INFO"
    # Who may read /metrics: these addresses or networks (comma-separated in the
    # environment), or a request bearing ``Authorization: Bearer <METRICS_TOKEN>``.
    METRICS_ALLOWED_IPS: tuple[str, ...] = ("127.0.0.1", "::1")
    METRICS_TOKEN: str | None = None
    # Webhooks (api.webhooks): may a subscription's address be private (loopback, 10/8,
    # 192.168/16, link-local…)? Off by default, so that a collectivité's manager cannot make
    # the server call its own network; on for a receiver on the same machine or LAN (tests).
    WEBHOOKS_ALLOW_PRIVATE = False
    WEBHOOKS_TIMEOUT = 10.0  # seconds a receiver has to answer
    WEBHOOKS_MAX_ATTEMPTS = 8  # then the delivery is failed (an administrator may redeliver)
    # Personal data (privacy): a reporter's name and address are deleted this many months
    # after the ticket closes (privacy.retention, a daily job); the address the privacy
    # notice gives for questions and requests (the controller's data protection officer).
    REPORTER_CONTACT_RETENTION_MONTHS = 6
    PRIVACY_CONTACT: str | None = None
    # Alerts before the end (suppliers.alerts): days before a subscription's or a contract's
    # end, and before an item's warranty ends; one mail per threshold.
    EXPIRY_ALERT_DAYS: tuple[int, ...] = (90,)
    WARRANTY_ALERT_DAYS: tuple[int, ...] = (30,)


def load_config(app: Any, overrides: dict[str, Any] | None = None) -> None:
    """Apply defaults, the instance file, the environment, then explicit overrides."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    for key in ENV_KEYS:
        if key in os.environ:
            app.config[key] = os.environ[key]
    if overrides:
        app.config.update(overrides)
    if not app.config.get("DATABASE_URL"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'socle.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["TRUSTED_PROXIES"] = int(app.config.get("TRUSTED_PROXIES") or 0)
    if app.config.get("SESSION_LIFETIME_HOURS"):
        hours = float(app.config["SESSION_LIFETIME_HOURS"])
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=hours)
    app.config["SESSION_IDLE_MINUTES"] = int(app.config["SESSION_IDLE_MINUTES"])
    app.config["GENERATED_FILES_DAYS"] = int(app.config["GENERATED_FILES_DAYS"])
    months = app.config["REPORTER_CONTACT_RETENTION_MONTHS"]
    app.config["REPORTER_CONTACT_RETENTION_MONTHS"] = int(months)
    if isinstance(app.config.get("METRICS_ALLOWED_IPS"), str):
        ips = app.config["METRICS_ALLOWED_IPS"].split(",")
        app.config["METRICS_ALLOWED_IPS"] = tuple(ip.strip() for ip in ips if ip.strip())
    if isinstance(app.config.get("SMTP_PORT"), str):
        app.config["SMTP_PORT"] = int(app.config["SMTP_PORT"])
    if app.debug or app.testing:
        app.config["SESSION_COOKIE_SECURE"] = False
        app.config["REMEMBER_COOKIE_SECURE"] = False
    elif app.config["SECRET_KEY"] == DEV_SECRET_KEY:
        raise RuntimeError(
            "Refusing to start with the development SECRET_KEY: set SECRET_KEY in the "
            "environment or in instance/config.py."
        )
