"""The API as a collectivité's own script uses it: nothing but ``requests`` against the
live app on loopback. Sign in to make a token, subscribe the collectivité's tool to its
tickets, create 50 items in one call, move one, read its history; a teacher reports a
problem on a label, the script resolves the ticket; the tool's receiver gets both events
and checks their signatures as the README tells it to."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

import pytest
import requests

from inventory.core.policy import Role
from tests.factories import PASSWORD, build_world
from tests.servers import a_webhook_receiver


@pytest.fixture
def app_config():
    # The receiver listens on loopback, a private address: allowed here.
    return {"WTF_CSRF_ENABLED": True, "WEBHOOKS_ALLOW_PRIVATE": True}


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "the form carries its CSRF token"
    return found.group(1)


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check: HMAC-SHA256 of "<timestamp>.<body>", a recent timestamp."""
    stamp = headers["X-Socle-Timestamp"]
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(stamp)) < 300
    return fresh and hmac.compare_digest(f"sha256={mac}", headers["X-Socle-Signature"])


def test_a_collectivites_script_works_through_the_api_alone(
    live_server, registry, db_session, make_user
):
    world = build_world(db_session)
    db_session.commit()
    email = make_user(Role.TECHNICIEN, [("collectivite", world["coll"])])
    base = live_server
    web = requests.Session()

    # 1. Sign in on the pages, once, to make a read-write token (shown on that answer only).
    login = web.get(f"{base}/login", timeout=10)
    signed = web.post(
        f"{base}/login",
        data={"email": email, "password": PASSWORD, "csrf_token": form_token(login.text)},
        timeout=10,
    )
    assert signed.ok and "/login" not in signed.url
    tokens_page = web.get(f"{base}/compte/jetons-api", timeout=10)
    made = web.post(
        f"{base}/compte/jetons-api",
        data={
            "name": "Script MDM",
            "scope": "write",
            "csrf_token": form_token(tokens_page.text),
        },
        timeout=10,
    )
    assert made.status_code == 200, made.text
    secret = re.search(r"socle_[A-Za-z0-9_-]{20,}", made.text).group(0)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {secret}"

    with a_webhook_receiver() as receiver:
        # 2. The collectivité's tool subscribes to its tickets' creation and resolution.
        hooks_page = web.get(f"{base}/collectivites/{world['coll']}/webhooks", timeout=10)
        subscribed = web.post(
            f"{base}/collectivites/{world['coll']}/webhooks",
            data={
                "name": "GLPI",
                "url": receiver.url,
                "events": ["ticket.created", "ticket.resolved"],
                "active": "y",
                "csrf_token": form_token(hooks_page.text),
            },
            timeout=10,
        )
        assert subscribed.status_code == 200, subscribed.text
        hook_secret = re.search(r"whsec_[A-Za-z0-9_-]+", subscribed.text).group(0)

        # 3. Where to put things: the collectivité's schools and a school's rooms.
        schools = api.get(
            f"{base}/api/v1/schools", params={"collectivite": world["coll"]}, timeout=10
        )
        assert schools.status_code == 200, schools.text
        school = schools.json()["items"][0]["id"]
        rooms = api.get(f"{base}/api/v1/schools/{school}/classrooms", timeout=10).json()
        assert len(rooms) >= 2
        first, second = rooms[0]["id"], rooms[1]["id"]

        # 4. Fifty tablets in one call, all recorded or none.
        items = [
            {
                "category": "tablette",
                "manufacturer": "Apple",
                "model": "iPad 10",
                "classroom_id": first,
                "serial": f"SCRIPT-{n:03d}",
                "status": "in_service",
            }
            for n in range(50)
        ]
        created = api.post(f"{base}/api/v1/assets/bulk", json={"items": items}, timeout=60)
        assert created.status_code == 201, created.text
        made_items = created.json()["items"]
        assert len(made_items) == 50 and len({i["tag"] for i in made_items}) == 50
        listed = api.get(
            f"{base}/api/v1/assets",
            params={"classroom": first, "q": "SCRIPT-", "limit": 200},
            timeout=10,
        ).json()
        assert {i["id"] for i in made_items} <= {i["id"] for i in listed["items"]}

        # 5. Move one, with the version read (If-Match), then read its history.
        moved_id = made_items[7]["id"]
        read = api.get(f"{base}/api/v1/assets/{moved_id}", timeout=10)
        moved = api.post(
            f"{base}/api/v1/assets/{moved_id}/move",
            json={"classroom_id": second},
            headers={"If-Match": read.headers["ETag"]},
            timeout=10,
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["classroom_id"] == second
        stale = api.post(
            f"{base}/api/v1/assets/{moved_id}/move",
            json={"classroom_id": first},
            headers={"If-Match": read.headers["ETag"]},
            timeout=10,
        )
        assert stale.status_code == 412
        history = api.get(f"{base}/api/v1/assets/{moved_id}/history", timeout=10)
        assert history.status_code == 200, history.text
        changes = history.json()["items"]
        assert len(changes) >= 2  # created, then moved
        assert any("(API)" in (c.get("actor_label") or "") for c in changes)

        # 6. A teacher scans a label and reports a problem, without an account.
        scan = requests.get(f"{base}/q/{world['token']}", timeout=10)
        assert scan.status_code == 200
        problem = re.search(r'name="problem"[^>]*value="(\d+)"', scan.text).group(1)
        reported = requests.post(
            f"{base}/q/{world['token']}",
            files={
                "problem": (None, problem),
                "description": (None, "L'écran ne s'allume plus."),
            },
            timeout=10,
        )
        assert reported.status_code == 200, reported.status_code

        # 7. The script finds the ticket and resolves it, with the version read.
        found = api.get(
            f"{base}/api/v1/tickets", params={"asset": world["screen"].id}, timeout=10
        ).json()["items"]
        assert len(found) == 1
        ticket = api.get(f"{base}/api/v1/tickets/{found[0]['id']}", timeout=10)
        resolved = api.post(
            f"{base}/api/v1/tickets/{found[0]['id']}/status",
            json={"status": "resolved", "resolution": "Alimentation remplacée."},
            headers={"If-Match": ticket.headers["ETag"]},
            timeout=10,
        )
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["status"] == "resolved"

        deadline = time.monotonic() + 10
        while len(receiver.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)

    # 8. The tool got both events, each signed with the subscription's secret.
    events = [(headers, json.loads(body), body) for headers, body in receiver.received]
    assert [payload["event"] for _, payload, _ in events] == ["ticket.created", "ticket.resolved"]
    for headers, payload, body in events:
        assert verified(hook_secret, headers, body)
        assert not verified("whsec_not-the-secret", headers, body)
        assert payload["data"]["ticket"] == found[0]["id"]
        assert headers["X-Socle-Event"] == payload["event"]
