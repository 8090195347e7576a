"""A token's life through the pages and the API: shown once, hashed at rest, refused
when revoked, expired, used from elsewhere, or read-only for a write."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from inventory.api.models import ApiToken
from inventory.auth.models import User
from inventory.core.audit import AuditRecord
from tests.factories import api_token, bearer, fresh, login, signed_in

SECRET = re.compile(r"socle_[A-Za-z0-9_-]{43}")


def _problem(response, status):
    assert response.status_code == status, response.data[:500]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"]
    return body


def test_a_token_is_shown_once_and_only_its_hash_is_kept(app, registry, make_user, db_session):
    coll = registry["collectivites"]["Créteil"]
    client, email = signed_in(app, make_user, "technicien", [("collectivite", coll)])
    page = client.get("/compte/jetons-api")
    assert page.status_code == 200 and "Mes jetons d" in page.text  # French by default
    created = client.post(
        "/compte/jetons-api", data={"name": "Script MDM", "scope": "write", "networks": ""}
    )
    assert created.status_code == 200
    secrets_shown = SECRET.findall(created.text)
    assert len(secrets_shown) == 1
    secret = secrets_shown[0]
    token = db_session.scalar(select(ApiToken).filter_by(name="Script MDM"))
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:14] and token.scope == "write"
    assert secret not in repr([getattr(token, c.key) for c in ApiToken.__table__.columns])
    again = client.get("/compte/jetons-api")
    assert secret not in again.text and token.prefix in again.text
    # The creation is in the change log, without the hash.
    record = db_session.scalar(
        select(AuditRecord).filter_by(object_type="api_tokens", object_id=token.id)
    )
    assert record.action == "create" and record.actor_label == email
    assert "secret_hash" not in record.changes and token.secret_hash not in str(record.changes)
    # The token works, from a client with no cookie; its use is recorded.
    api = app.test_client()
    assert api.get("/api/v1/schools", headers=bearer(secret)).status_code == 200
    used = fresh(db_session, ApiToken, token.id)
    assert used.last_used_at is not None and used.last_used_ip == "127.0.0.1"
    # Revoked on the page: 401 at once, and the revocation is logged.
    assert client.post(f"/compte/jetons-api/{token.id}/revoquer").status_code == 302
    body = _problem(api.get("/api/v1/schools", headers=bearer(secret)), 401)
    assert "révoqué" in body["detail"]
    actions = db_session.scalars(
        select(AuditRecord.action).filter_by(object_type="api_tokens", object_id=token.id)
    ).all()
    assert sorted(actions) == ["create", "update"]


def test_unknown_expired_and_outside_networks_are_401(app, registry, make_user, db_session):
    email = make_user("auditeur", [("academie", 1)])
    api = app.test_client()
    response = api.get("/api/v1/schools", headers=bearer("socle_" + "x" * 43))
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    _problem(api.get("/api/v1/schools", headers={"Authorization": "Basic abc"}), 401)
    _problem(api.get("/api/v1/schools"), 401)

    expiring = api_token(app, email, expires_at=datetime.now(UTC) + timedelta(hours=1))
    assert api.get("/api/v1/schools", headers=bearer(expiring)).status_code == 200
    db_session.execute(
        update(ApiToken)
        .where(ApiToken.secret_hash == hashlib.sha256(expiring.encode()).hexdigest())
        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db_session.commit()
    _problem(api.get("/api/v1/schools", headers=bearer(expiring)), 401)

    fenced = api_token(app, email, networks="10.0.0.0/8\n192.168.1.7")
    _problem(api.get("/api/v1/schools", headers=bearer(fenced)), 401)  # from 127.0.0.1
    for inside in ("10.1.2.3", "192.168.1.7"):
        ok = api.get(
            "/api/v1/schools", headers=bearer(fenced), environ_base={"REMOTE_ADDR": inside}
        )
        assert ok.status_code == 200
    outside = api.get(
        "/api/v1/schools", headers=bearer(fenced), environ_base={"REMOTE_ADDR": "192.168.1.8"}
    )
    _problem(outside, 401)
    # A deactivated account's tokens stop working.
    db_session.execute(update(User).where(User.email == email).values(active=False))
    db_session.commit()
    gone = api.get(
        "/api/v1/schools", headers=bearer(fenced), environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    _problem(gone, 401)


def test_a_session_cookie_alone_does_not_authenticate(app, registry, make_user):
    client, _email = signed_in(app, make_user, "admin")
    assert client.get("/ecoles").status_code == 200
    for path in ("/api/v1/schools", "/api/v1/assets"):
        refused = client.get(path)
        _problem(refused, 401)
        assert "Set-Cookie" not in refused.headers
    _problem(client.patch("/api/v1/assets/1", json={"version": 1}), 401)


def test_a_read_token_cannot_write(app, registry, make_user, places):
    email = make_user("technicien", [("collectivite", places["coll"]["Créteil"])])
    secret = api_token(app, email, scope="read")
    item = places["creteil"]["items"][0]
    api = app.test_client()
    assert api.get(f"/api/v1/assets/{item}", headers=bearer(secret)).status_code == 200
    body = _problem(
        api.patch(f"/api/v1/assets/{item}", json={"version": 1}, headers=bearer(secret)), 403
    )
    assert body["detail"] == "Ce jeton est en lecture seule."


def test_an_auditor_cannot_make_a_write_token(app, make_user, registry):
    client, _email = signed_in(app, make_user, "auditeur", [("academie", 1)])
    refused = client.post("/compte/jetons-api", data={"name": "x", "scope": "write"})
    assert refused.status_code == 422 and "choisissez la lecture seule" in refused.text
    bad = client.post("/compte/jetons-api", data={"name": "x", "networks": "10.0.0.300"})
    assert bad.status_code == 422 and "10.0.0.300" in bad.text


def test_an_administrator_sees_and_revokes_everyones_tokens(app, registry, make_user, db_session):
    owner = make_user("formateur", [("circonscription", 1)])
    other = make_user("formateur", [("circonscription", 1)])
    secret = api_token(app, owner, name="Agenda")
    token = db_session.scalar(select(ApiToken).filter_by(name="Agenda"))
    # Someone else cannot revoke it (nor learn it exists).
    stranger = app.test_client()
    assert login(stranger, other).status_code == 302
    assert stranger.post(f"/compte/jetons-api/{token.id}/revoquer").status_code == 404
    assert "Agenda" not in stranger.get("/compte/jetons-api").text
    assert stranger.get("/admin/jetons-api").status_code == 404
    admin, _email = signed_in(app, make_user, "admin")
    listing = admin.get("/admin/jetons-api")
    assert listing.status_code == 200 and "Agenda" in listing.text and owner in listing.text
    done = admin.post(f"/compte/jetons-api/{token.id}/revoquer", data={"from": "admin"})
    assert done.status_code == 302 and done.location.endswith("/admin/jetons-api")
    assert fresh(db_session, ApiToken, token.id).revoked_at is not None
    _problem(app.test_client().get("/api/v1/schools", headers=bearer(secret)), 401)


def test_the_user_menu_links_the_tokens_page(app, registry, make_user):
    client, _email = signed_in(app, make_user, "gestionnaire", [("collectivite", 1)])
    assert 'href="/compte/jetons-api"' in client.get("/").text
