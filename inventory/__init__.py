"""Socle: the digital equipment of primary schools, from grant to classroom."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from inventory.paths import ROOT


def create_app(config: dict[str, Any] | None = None) -> Flask:
    # Uploads, label files and the SQLite database live in the instance folder.
    instance = (config or {}).get("INSTANCE_PATH") or os.environ.get("SOCLE_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=str(instance or ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        instance_relative_config=True,
    )
    from inventory.config import load_config
    from inventory.web import RowId

    app.url_map.converters["int"] = RowId  # before any route is declared

    load_config(app, config)
    configure_database(app)
    configure_extensions(app)
    configure_blueprints(app)
    configure_web(app)
    configure_jobs(app)
    configure_cli(app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Without this, rate limits and the change log would see the proxy's address only.
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    from inventory.web import check_access_rules

    check_access_rules(app)
    return app


def configure_database(app: Flask) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from inventory.extensions import db, migrate

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)

    from inventory.core import reads

    with app.app_context():
        engine: Engine = db.engine
        reads.install(app, db, engine)
        if engine.dialect.name == "sqlite":

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                # A large import lets the log grow while it runs (a batch per commit):
                # once copied back, its file is cut back to 64 MiB.
                cur.execute("PRAGMA journal_size_limit=67108864")
                cur.close()

    # Models must be imported for the mappers, the access rules and Alembic to see them.
    import inventory.api.models
    import inventory.api.webhooks_models
    import inventory.assets.access
    import inventory.assets.models
    import inventory.auth.models
    import inventory.auth.sso_models
    import inventory.core.mail
    import inventory.grants.access
    import inventory.grants.models
    import inventory.helpdesk.access
    import inventory.helpdesk.loan_returns
    import inventory.helpdesk.models
    import inventory.jobs.access
    import inventory.labels.access
    import inventory.labels.models
    import inventory.loans.access
    import inventory.loans.models
    import inventory.network.access
    import inventory.network.models
    import inventory.orgs.access
    import inventory.orgs.models
    import inventory.reports.stale
    import inventory.reports.summary
    import inventory.suppliers.access
    import inventory.suppliers.models
    import inventory.training.access
    import inventory.training.models  # noqa: F401


def configure_extensions(app: Flask) -> None:
    from inventory.extensions import babel, csrf, limiter, login_manager
    from inventory.web import select_locale, select_timezone

    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    # Said for every app: Flask-Limiter's default is the shared limiter's last state, so
    # one app made with limits off (a benchmark, a test) would leave the next without them.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    login_manager.init_app(app)
    from inventory.auth import session as _session  # noqa: F401  registers the user_loader
    from inventory.core import storage

    storage.install(app)


def configure_blueprints(app: Flask) -> None:
    from inventory.assets.digital_views import bp as digital_bp
    from inventory.assets.socle_views import bp as socle_bp
    from inventory.assets.transfer import bp as assets_io_bp
    from inventory.assets.views import bp as assets_bp
    from inventory.auth.sso_views import bp as sso_bp
    from inventory.auth.views import bp as auth_bp
    from inventory.changelog.views import bp as changelog_bp
    from inventory.grants.views import bp as grants_bp
    from inventory.helpdesk.campaign_views import bp as campaigns_bp
    from inventory.helpdesk.public_views import bp as public_bp
    from inventory.helpdesk.views import bp as helpdesk_bp
    from inventory.jobs.views import bp as jobs_bp
    from inventory.labels.views import bp as labels_bp
    from inventory.loans.views import bp as loans_bp
    from inventory.network.views import bp as network_bp
    from inventory.orgs.views import bp as orgs_bp
    from inventory.privacy.views import bp as privacy_bp
    from inventory.reports.views import bp as reports_bp
    from inventory.suppliers.views import bp as suppliers_bp
    from inventory.training.views import bp as training_bp
    from inventory.web import bp as web_bp

    app.register_blueprint(web_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(sso_bp)
    app.register_blueprint(orgs_bp)
    app.register_blueprint(changelog_bp)
    app.register_blueprint(assets_bp)
    app.register_blueprint(assets_io_bp)
    app.register_blueprint(socle_bp)
    app.register_blueprint(digital_bp)
    app.register_blueprint(network_bp)
    app.register_blueprint(labels_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(helpdesk_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(training_bp)
    app.register_blueprint(loans_bp)
    app.register_blueprint(grants_bp)
    app.register_blueprint(suppliers_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(jobs_bp)
    from inventory.api import setup as api_setup
    from inventory.api.docs import bp as api_docs_bp
    from inventory.api.views import bp as api_tokens_bp
    from inventory.api.webhooks_views import bp as webhooks_bp

    app.register_blueprint(api_tokens_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(api_docs_bp)
    api_setup.init_app(app)
    configure_panels(app)


def configure_panels(app: Flask) -> None:
    # What the domains above the registry show on its pages (the policy's rules register
    # the same way, when the models are imported).
    from inventory.assets import panels as assets_panels
    from inventory.grants import panels as grants_panels
    from inventory.helpdesk import panels as helpdesk_panels
    from inventory.loans import panels as loans_panels
    from inventory.network import panels as network_panels
    from inventory.suppliers import linking as suppliers_linking
    from inventory.suppliers import panels as suppliers_panels
    from inventory.training import panels as training_panels

    assets_panels.init_app(app)
    network_panels.init_app(app)
    grants_panels.init_app(app)
    training_panels.init_app(app)
    loans_panels.init_app(app)
    suppliers_panels.init_app(app)
    suppliers_linking.init_app(app)
    helpdesk_panels.init_app(app)
    configure_history(app)


def configure_history(app: Flask) -> None:
    # How each domain's records read in the history panels, the journal and its exports
    # (the change log comes before the domains and cannot import them).
    from inventory.api import webhooks_history as api_history
    from inventory.assets import history as assets_history
    from inventory.auth import history as auth_history
    from inventory.grants import history as grants_history
    from inventory.helpdesk import history as helpdesk_history
    from inventory.jobs import history as jobs_history
    from inventory.labels import history as labels_history
    from inventory.loans import history as loans_history
    from inventory.network import history as network_history
    from inventory.orgs import history as orgs_history
    from inventory.suppliers import history as suppliers_history
    from inventory.training import history as training_history

    for domain in (
        orgs_history,
        auth_history,
        assets_history,
        network_history,
        grants_history,
        labels_history,
        helpdesk_history,
        training_history,
        loans_history,
        suppliers_history,
        jobs_history,
        api_history,
    ):
        domain.init_app(app)


def configure_web(app: Flask) -> None:
    from inventory.core import static_files
    from inventory.web import install

    install(app)
    static_files.install(app)


def configure_jobs(app: Flask) -> None:
    # Every domain's tasks must be declared before the app's queue registers them.
    import inventory.api.webhooks
    import inventory.assets.tasks
    import inventory.core.import_jobs
    import inventory.core.mail
    import inventory.helpdesk.tasks
    import inventory.labels.tasks
    import inventory.loans.tasks
    import inventory.orgs.tasks
    import inventory.privacy.tasks
    import inventory.reports.tasks
    import inventory.suppliers.tasks  # noqa: F401
    from inventory.core import probes
    from inventory.core.jobs import queue

    queue(app)
    probes.install(app)


def configure_cli(app: Flask) -> None:
    from inventory.cli import register

    register(app)
