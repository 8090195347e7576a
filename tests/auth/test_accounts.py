"""Password reset, invitations, administration of accounts (web and CLI)."""

from __future__ import annotations

import re

from sqlalchemy import select

from inventory.auth import services
from inventory.auth.models import User
from inventory.core.audit import AuditRecord
from inventory.core.mail import OutboxMessage
from tests.factories.registry import PASSWORD, login

NEW_PASSWORD = "un-tout-nouveau-mot-de-passe"


def last_link(db_session, to):
    db_session.expire_all()
    message = db_session.scalars(
        select(OutboxMessage).filter_by(to=to).order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, f"no mail to {to}"
    return re.search(r"https?://\S+", message.body).group(0)


def path_of(url):
    return "/" + url.split("/", 3)[3]


def test_reset_link_works_once(client, make_user, db_session):
    email = make_user("admin")
    response = client.post("/password/forgot", data={"email": email})
    assert response.status_code == 302
    link = path_of(last_link(db_session, email))
    assert client.get(link).status_code == 200
    saved = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert saved.status_code == 302 and saved.location == "/login"
    assert login(client, email, NEW_PASSWORD).status_code == 302
    client.post("/logout")
    again = client.get(link)
    assert again.status_code == 302 and again.location == "/password/forgot"
    assert login(client, email, PASSWORD).status_code == 200  # the old one is gone


def test_reset_link_expires(client, make_user, db_session, monkeypatch):
    email = make_user("admin")
    client.post("/password/forgot", data={"email": email})
    link = path_of(last_link(db_session, email))
    monkeypatch.setattr(services, "RESET_MAX_AGE", -1)
    assert client.get(link).location == "/password/forgot"


def test_forgot_password_says_the_same_for_unknown_emails(client, make_user, db_session):
    email = make_user("admin")
    known = client.post("/password/forgot", data={"email": email}, follow_redirects=True)
    unknown = client.post(
        "/password/forgot", data={"email": "nobody@example.org"}, follow_redirects=True
    )
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert db_session.scalars(select(OutboxMessage).filter_by(to="nobody@example.org")).all() == []


def test_weak_passwords_are_refused(client, make_user, db_session):
    email = make_user("admin")
    client.post("/password/forgot", data={"email": email})
    link = path_of(last_link(db_session, email))
    for weak in ("short", "motdepasse123", "aaaaaaaaaaaaaaaa", email.split("@")[0] + "-2024-x"):
        response = client.post(link, data={"password": weak, "confirm": weak})
        assert response.status_code == 200, weak
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    mismatch = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 200


def test_admin_invites_a_technician_who_sets_a_password(app, login_as, registry, db_session):
    admin = login_as("admin")
    coll = registry["collectivites"]["Fresnes"]
    response = admin.post(
        "/admin/users/new",
        data={
            "email": "Nouveau.Tech@Example.org",
            "name": "Nouveau Technicien",
            "role": "technicien",
            "collectivites": [str(coll)],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    user = db_session.scalar(select(User).filter_by(email="nouveau.tech@example.org"))
    assert user.password_hash is None and user.scopes[0].ref_id == coll
    link = path_of(last_link(db_session, user.email))
    assert "/invitation/" in link
    guest = app.test_client()
    assert (
        guest.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code
        == 302
    )
    assert login(guest, user.email, NEW_PASSWORD).status_code == 302
    # The technician sees Fresnes and nothing of Créteil.
    html = guest.get("/ecoles").get_data(as_text=True)
    assert "Fresnes" in html and "Créteil" not in html.split("<table", 1)[1]
    # The outbox page shows the invitation to administrators.
    assert "Nouveau Technicien" in admin.get("/admin/outbox").get_data(as_text=True)


def test_role_without_scope_and_scope_of_the_wrong_kind_are_refused(login_as, registry):
    admin = login_as("admin")
    no_scope = admin.post(
        "/admin/users/new", data={"email": "a@example.org", "name": "A", "role": "technicien"}
    )
    assert no_scope.status_code == 200 and "a@example.org" in no_scope.get_data(as_text=True)
    circo = next(iter(registry["circonscriptions"].values()))
    wrong = admin.post(
        "/admin/users/new",
        data={
            "email": "b@example.org",
            "name": "B",
            "role": "technicien",
            "circonscriptions": [str(circo)],
        },
    )
    assert wrong.status_code == 200


def test_admin_changes_role_and_deactivates(app, login_as, make_user, registry, db_session):
    email = make_user("technicien", [("collectivite", registry["collectivites"]["Fresnes"])])
    victim = app.test_client()
    assert login(victim, email).status_code == 302
    admin = login_as("admin")
    user = db_session.scalar(select(User).filter_by(email=email))
    acad = None
    page = admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    acad = re.search(r'name="academies"[^>]*>\s*<option[^>]*value="(\d+)"', page)
    acad = (
        acad.group(1)
        if acad
        else re.search(r'<option[^>]*value="(\d+)"[^>]*>Créteil', page).group(1)
    )
    response = admin.post(
        f"/admin/users/{user.id}",
        data={
            "name": "Ex Technicien",
            "role": "auditeur",
            "academies": [acad],
            "active": "y",
        },
    )
    assert response.status_code == 302
    db_session.expire_all()
    user = db_session.scalar(select(User).filter_by(email=email))
    assert user.role.value == "auditeur"
    assert [(s.kind.value, s.ref_id) for s in user.scopes] == [("academie", int(acad))]
    response = admin.post(
        f"/admin/users/{user.id}",
        data={
            "name": "Ex Technicien",
            "role": "auditeur",
            "academies": [acad],
        },
    )
    assert response.status_code == 302
    assert victim.get("/").status_code == 302, "a deactivated user's session ends"
    assert login(victim, email).status_code == 200
    log = db_session.scalars(
        select(AuditRecord).filter_by(object_type="users", object_id=user.id)
    ).all()
    assert any(r.changes.get("role") == ["technicien", "auditeur"] for r in log)
    assert any(r.changes.get("active") == [True, False] for r in log)
    assert all("password_hash" not in r.changes for r in log)


def test_users_cli(app, db_session, registry):
    runner = app.test_cli_runner()
    coll = registry["collectivites"]["Créteil"]
    created = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "cli@example.org",
            "--name",
            "Cli User",
            "--role",
            "gestionnaire",
            "--scope",
            f"collectivite:{coll}",
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert created.exit_code == 0, created.output
    invited = runner.invoke(
        args=[
            "users",
            "invite",
            "--email",
            "inv@example.org",
            "--name",
            "Invité",
            "--role",
            "admin",
        ]
    )
    assert invited.exit_code == 0, invited.output
    assert "/invitation/" in last_link(db_session, "inv@example.org")
    listing = runner.invoke(args=["users", "list"]).output
    assert "cli@example.org\tgestionnaire\tcollectivite:" in listing
    assert runner.invoke(args=["users", "deactivate", "cli@example.org"]).exit_code == 0
    assert "inactive" in runner.invoke(args=["users", "list"]).output
    bad = runner.invoke(
        args=["users", "create", "--email", "x@example.org", "--name", "X", "--role", "technicien"],
        input="short\nshort\n",
    )
    assert bad.exit_code != 0
