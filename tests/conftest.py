"""Test fixtures: a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL),
migrated once per run, emptied after every test."""

from __future__ import annotations

import copy
import csv
import io
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import MetaData, create_engine, inspect, text
from sqlalchemy.orm import Session

from inventory import create_app
from inventory.core.policy import Role, ScopeKind
from inventory.paths import ROOT
from tests.factories import (  # noqa: F401  (imported from here too)
    ADMIN,
    PASSWORD,
    Admin,
    hash_passwords_cheaply,
    login,
)
from tests.servers import a_redis, an_oidc_provider

# Property tests draw the same examples on every run (a CI run is never lucky or unlucky),
# and a loaded machine's slow data generation is not a failure of the rule under test.
settings.register_profile(
    "socle", derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("socle")

DATA = ROOT / "data"
ANNUAIRE_094 = DATA / "annuaire-education-094.csv"
EFFECTIFS_035 = DATA / "ecoles-effectifs-035-extract.csv"
# Two communes of the real Val-de-Marne file: enough for scope tests, fast to import.
SAMPLE_COMMUNES = ("Fresnes", "Villecresnes", "Créteil")


def _database_url(tmp_root: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'test.db'}"


# Fixtures shared by several test directories live in plain modules, loaded here once, so
# that no test module imports another's fixtures.
pytest_plugins = ["tests.reports.builders"]


@pytest.fixture(scope="module")
def oidc_issuer() -> Iterator[str]:
    """A real OpenID Connect provider on loopback (oidc-provider-mock); its issuer."""
    with an_oidc_provider() as issuer:
        yield issuer


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Empty the test database, then build its schema with the migrations."""
    url = _database_url(tmp_path_factory.mktemp("db"))
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        from inventory.extensions import db

        _read_schema(db.engine)
        _SEEDED.update(_seeded_rows(db.engine))
        db.engine.dispose()
    return url


# Reference data the migrations insert (categories, requirements…), restored after each test.
_SEEDED: dict[str, list[dict[str, Any]]] = {}
# The schema, read once per run: its tables (the names, children before their parents on
# PostgreSQL, which empties them in that order) and PostgreSQL's sequences.
_SCHEMA = MetaData()
_TABLES: list[str] = []
_SEQUENCES: list[str] = []


def _read_schema(engine: Any) -> None:
    _SCHEMA.reflect(engine)
    _TABLES[:] = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    if engine.dialect.name == "postgresql":
        order = [t.name for t in reversed(_SCHEMA.sorted_tables)]
        _TABLES.sort(key=order.index)
        with engine.connect() as conn:
            _SEQUENCES[:] = conn.scalars(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
            ).all()


def _seeded_rows(engine: Any) -> dict[str, list[dict[str, Any]]]:
    out = {}
    with engine.connect() as conn:
        for table in _SCHEMA.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = [dict(r._mapping) for r in conn.execute(table.select())]
            if rows:
                out[table.name] = rows
    return out


def _restore_seeded(conn: Any, engine: Any) -> None:
    for name, rows in _SEEDED.items():
        conn.execute(_SCHEMA.tables[name].insert(), rows)
        if engine.dialect.name == "postgresql" and "id" in _SCHEMA.tables[name].c:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f'(SELECT max(id) FROM "{name}"))'
                )
            )


def _empty_all_tables(app: Flask) -> None:
    from inventory.extensions import db

    with app.app_context():
        db.session.remove()
        engine = db.engine
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                # Row by row, children first: for a test's few rows, far quicker than a
                # TRUNCATE (which makes new files for every table and index). Then the ids
                # start again at 1, as they do on SQLite.
                # All in one round trip to the server (psycopg runs a query without
                # parameters as several statements).
                resets = ", ".join(f"setval('{q}', 1, false)" for q in _SEQUENCES)
                deletes = "".join(f'DELETE FROM "{t}";' for t in _TABLES)
                conn.connection.driver_connection.execute(f"{deletes} SELECT {resets}")
            else:
                conn.execute(text("PRAGMA foreign_keys=OFF"))
                for t in _TABLES:
                    conn.execute(text(f'DELETE FROM "{t}"'))
                conn.execute(text("DELETE FROM sqlite_sequence")) if "sqlite_sequence" in {
                    r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))
                } else None
                conn.execute(text("PRAGMA foreign_keys=ON"))
            _restore_seeded(conn, engine)
        engine.dispose()


@pytest.fixture(autouse=True)
def password_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts' passwords hashed cheaply (tests.factories.hash_passwords_cheaply): the
    production hash costs a third of a second to make and as much to check, at every
    account a test makes and every sign-in. Where accounts and signing in are what is
    tested (tests/auth), a conftest.py there overrides this fixture with the real hash;
    a test elsewhere that needs it marks itself ``real_password_hashes``."""
    if request.node.get_closest_marker("real_password_hashes") is None:
        hash_passwords_cheaply(monkeypatch)


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module to change the configuration."""
    return {}


# Building the app is most of a small test's time (the API's OpenAPI document, two thousand
# URL rules): an app is built once per distinct configuration and lent to each test that
# asks for that configuration, set back first to how it was built (its configuration, its
# instance folder, its store, its job queue, the rate limits' counts). Test data still goes
# through real commits and every table is emptied after each test, as before.
_APPS: OrderedDict[str, _Built] = OrderedDict()
# A few configurations come back across the run (the default one above all): kept apps,
# most recently used last; the others are dropped, their connections closed.
_APPS_KEPT = 8
_TMP = "<tmp_path>"


def _app_key(config: dict[str, Any], tmp_path: Path) -> str:
    """The configuration as a key, the test's own temporary folder left out (a setting
    under it, such as STORAGE_PATH, is read again for each test: see _Built.lend)."""
    return repr(sorted((k, repr(v).replace(str(tmp_path), _TMP)) for k, v in config.items()))


@dataclass
class _Built:
    """What a kept app was when built, which each test gets back."""

    app: Flask
    config: dict[str, Any]
    # The registries the app keeps in ``app.extensions`` (health checks, memos…), which a
    # test may add to; the job queue is left out, built anew on first use.
    extensions: dict[str, Any]
    gauges: dict[str, Any]

    @classmethod
    def of(cls, app: Flask) -> _Built:
        extensions = {k: v for k, v in app.extensions.items() if k != "socle_jobs"}
        gauges = dict(app.extensions["socle_metrics"].gauges.gauges)
        registries = {
            k: copy.copy(v) if isinstance(v, dict | set) else v for k, v in extensions.items()
        }
        return cls(app, copy.deepcopy(dict(app.config)), registries, gauges)

    def lend(self, config: dict[str, Any]) -> Flask:
        """The app set back to how it was built, for ``config`` (the same but for the
        test's temporary folder)."""
        from inventory.core import storage
        from inventory.extensions import limiter

        app = self.app
        app.config.clear()
        app.config.update(copy.deepcopy(self.config))
        app.config.update(config)
        app.instance_path = config["INSTANCE_PATH"]
        app.extensions.clear()
        app.extensions.update(
            {
                k: copy.copy(v) if isinstance(v, dict | set) else v
                for k, v in self.extensions.items()
            }
        )
        app.extensions["socle_metrics"].gauges.gauges = dict(self.gauges)
        storage.install(app)  # under this test's folder
        limiter.init_app(app)  # the limits' storage afresh, as a new app's, counting nothing
        return app


def _own_app(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("own_app") is not None


@pytest.fixture
def app(
    database_url: str, app_config: dict[str, Any], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    config = {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "SERVER_NAME": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "WTF_CSRF_ENABLED": False,
        **app_config,
    }
    if _own_app(request):
        app = create_app(config)
        yield app
        _empty_all_tables(app)
        return
    key = _app_key(config, tmp_path)
    built = _APPS.pop(key, None)
    if built is None:
        app = create_app(config)
        built = _Built.of(app)
    else:
        app = built.lend(config)
    _APPS[key] = built
    while len(_APPS) > _APPS_KEPT:
        _, dropped = _APPS.popitem(last=False)
        with dropped.app.app_context():
            from inventory.extensions import db

            db.engine.dispose()
    yield app
    _empty_all_tables(app)


@pytest.fixture
def limit_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where the rate limits count, as a test parametrized with ``indirect=True`` asks:
    "memory" (each process its own) or "redis" (a real one, shared by the workers)."""
    if request.param == "memory":
        yield "memory://"
        return
    with a_redis(tmp_path) as url:
        yield url


@pytest.fixture
def db_session(app: Flask, database_url: str) -> Iterator[Session]:
    """A session of the test's own, for arranging data and checking results.

    It is not the app's session and holds no app context open: a request made by the test
    client must not share the test's session or its ``g`` (the signed-in user lives there).
    """
    engine = create_engine(database_url)
    session = Session(engine)
    yield session
    session.close()
    engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def annuaire_rows(
    communes: tuple[str, ...] | None = SAMPLE_COMMUNES,
) -> tuple[list[str], list[list[str]]]:
    with ANNUAIRE_094.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        header = next(reader)
        col = header.index("Nom_commune")
        rows = [r for r in reader if communes is None or r[col] in communes]
    return header, rows


def to_csv(
    header: list[str],
    rows: list[list[str]],
    *,
    delimiter: str = ";",
    bom: bool = True,
    crlf: bool = True,
    encoding: str = "utf-8",
) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n").writerows(
        [header, *rows]
    )
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom and encoding == "utf-8" else data


@pytest.fixture
def registry(app: Flask) -> dict[str, Any]:
    """The schools of three real Val-de-Marne communes, imported through the importer."""
    from sqlalchemy import select

    from inventory.core import audit
    from inventory.extensions import db
    from inventory.orgs.importers import import_annuaire
    from inventory.orgs.models import Circonscription, Collectivite, Ecole
    from inventory.orgs.services import estimate_classrooms

    header, rows = annuaire_rows()
    with app.app_context(), audit.acting_as(audit.Actor(None, "fixture")):
        report = import_annuaire(db.session, to_csv(header, rows))
        estimate_classrooms(db.session)
        colls = {c.name: c.id for c in db.session.scalars(select(Collectivite))}
        circos = {c.name: c.id for c in db.session.scalars(select(Circonscription))}
        schools = {
            e.uai: (e.id, e.collectivite_id, e.circonscription_id)
            for e in db.session.scalars(select(Ecole))
        }
        db.session.remove()
    return {
        "report": report,
        "collectivites": colls,
        "circonscriptions": circos,
        "schools": schools,
    }


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Any]:
    """Create an account through the service; returns its email."""
    from inventory.auth.services import ScopeChoice, create_user
    from inventory.extensions import db

    counter = iter(range(1, 10_000))

    def make(
        role: Role | str, scopes: list[tuple[ScopeKind | str, int]] = (), email: str | None = None
    ) -> str:
        role = Role(role)
        email = email or f"{role.value}{next(counter)}@example.org"
        with app.app_context():
            create_user(
                db.session,
                ADMIN,
                email=email,
                name=email.split("@")[0].title(),
                role=role,
                scopes=[ScopeChoice(ScopeKind(k), i) for k, i in scopes],
                password=PASSWORD,
            )
            db.session.remove()
        return email

    return make


@pytest.fixture
def login_as(client: FlaskClient, make_user: Callable[..., Any]) -> Callable[..., FlaskClient]:
    def go(role: Role | str, scopes: list[tuple[ScopeKind | str, int]] = ()) -> FlaskClient:
        email = make_user(role, scopes)
        response = login(client, email)
        assert response.status_code == 302, response.data[:500]
        return client

    return go


@pytest.fixture
def access_world(
    app: Flask,
    registry: dict[str, Any],
    make_user: Callable[..., Any],
    db_session: Session,
    tmp_path: Path,
) -> dict[str, Any]:
    """The access matrix's world (tests.factories.access_world): an account of every role,
    an object of every kind in scope and out of it."""
    from tests.factories import access_world as build

    return build(app, registry, make_user, db_session, tmp_path)
