"""Sessions that end: on the server at sign-out, after their lifetime, after idleness; and
the private downloads of labels are never kept by a cache."""

from __future__ import annotations

from sqlalchemy import select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import AssetStatus
from inventory.orgs.models import Classroom, Ecole
from tests.conftest import ADMIN, login


def _saved_cookie(client):
    return client.get_cookie("session").value


def _replay(app, cookie):
    """A fresh browser that holds only a copy of ``cookie``."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def test_a_cookie_saved_before_sign_out_is_refused_after(app, client, make_user):
    login(client, make_user("admin"))
    assert client.get("/").status_code == 200
    saved = _saved_cookie(client)
    assert _replay(app, saved).get("/").status_code == 200  # a copy works while signed in
    assert client.post("/logout").status_code == 302
    replayed = _replay(app, saved).get("/")
    assert replayed.status_code == 302 and replayed.location.startswith("/login")


def test_signing_in_again_after_sign_out_works(client, make_user):
    email = make_user("admin")
    login(client, email)
    client.post("/logout")
    assert login(client, email).status_code == 302
    assert client.get("/").status_code == 200


def test_an_idle_session_ends(app, client, make_user):
    login(client, make_user("admin"))
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with client.session_transaction() as s:
        s["seen_at"] -= idle - 120  # used two minutes within the limit: still alive
    assert client.get("/").status_code == 200
    with client.session_transaction() as s:
        s["seen_at"] -= idle + 1
    response = client.get("/")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_use_keeps_a_session_alive_but_not_beyond_its_lifetime(app, client, make_user):
    login(client, make_user("admin"))
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    with client.session_transaction() as s:
        s["began_at"] -= lifetime - 60
        s["seen_at"] -= 600  # used ten minutes ago: the request renews the stamp
    assert client.get("/").status_code == 200
    with client.session_transaction() as s:
        assert s["began_at"] < s["seen_at"]
        s["began_at"] -= 61
    response = client.get("/")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_a_session_without_its_stamps_is_refused(app, client, make_user):
    """A cookie signed before sessions had a lifetime (or forged without one) ends."""
    login(client, make_user("admin"))
    with client.session_transaction() as s:
        del s["began_at"]
    assert client.get("/").status_code == 302


def test_the_lifetime_is_configurable(app, client, make_user, monkeypatch):
    from inventory import create_app

    monkeypatch.setenv("SESSION_LIFETIME_HOURS", "1.5")
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "15")
    other = create_app({k: app.config[k] for k in ("TESTING", "DATABASE_URL", "SECRET_KEY")})
    assert other.permanent_session_lifetime.total_seconds() == 5400
    assert other.config["SESSION_IDLE_MINUTES"] == 15


def test_label_downloads_are_not_kept(login_as, registry, db_session):
    ecole = db_session.scalar(select(Ecole).filter_by(uai="0940176F"))
    room = db_session.scalars(select(Classroom).filter_by(ecole_id=ecole.id)).first()
    cat = catalogue.category_by_code(db_session, "eni")
    model = catalogue.get_or_create_model(db_session, "Speechi", "SPE-75", cat)
    asset = lifecycle.create_asset(
        db_session,
        ADMIN,
        where=lifecycle.Where(ecole.collectivite, ecole, room),
        model=model,
        status=AssetStatus.IN_SERVICE,
        fields=lifecycle.AssetFields(serial="SN0001"),
    )
    client = login_as("technicien", [("collectivite", ecole.collectivite_id)])
    for fmt in ("png", "svg"):
        label = client.get(f"/equipements/{asset.id}/etiquette.{fmt}")
        assert label.status_code == 200 and label.headers["Cache-Control"] == "no-store"
    pdf = client.post(
        "/etiquettes",
        data={"ecole": ecole.id, "format": "avery-l7160", "start": 1, "action": "print"},
    )
    assert pdf.mimetype == "application/pdf" and pdf.headers["Cache-Control"] == "no-store"
