"""The first endpoints, through HTTP with bearer tokens: the policy's scope, cursor
pages, optimistic locking, problem details, and the OpenAPI description."""

from __future__ import annotations

import re

from openapi_spec_validator import validate
from sqlalchemy import select

from inventory.assets.models import Asset
from inventory.core import events
from inventory.core.audit import AuditRecord
from inventory.orgs.models import Classroom
from tests.factories import api_token, bearer, fresh, signed_in


def _technician(app, make_user, places, scope="write"):
    email = make_user("technicien", [("collectivite", places["coll"]["Créteil"])])
    return email, api_token(app, email, scope=scope)


def test_schools_and_classrooms_in_scope_only(app, make_user, places, db_session):
    _email, secret = _technician(app, make_user, places)
    api = app.test_client()
    listing = api.get("/api/v1/schools?limit=200", headers=bearer(secret))
    assert listing.status_code == 200
    body = listing.get_json()
    ids = {s["id"] for s in body["items"]}
    assert places["creteil"]["ecole"] in ids and places["fresnes"]["ecole"] not in ids
    assert body["total"] == len(ids)
    assert {s["collectivite_id"] for s in body["items"]} == {places["coll"]["Créteil"]}
    mine = places["creteil"]["ecole"]
    one = api.get(f"/api/v1/schools/{mine}", headers=bearer(secret)).get_json()
    assert one["id"] == mine and one["uai"]
    rooms = api.get(f"/api/v1/schools/{mine}/classrooms", headers=bearer(secret)).get_json()
    expected = db_session.scalars(select(Classroom.id).filter_by(ecole_id=mine)).all()
    assert sorted(r["id"] for r in rooms) == sorted(expected)
    theirs = places["fresnes"]["ecole"]
    for path in (f"/api/v1/schools/{theirs}", f"/api/v1/schools/{theirs}/classrooms"):
        assert api.get(path, headers=bearer(secret)).status_code == 404


def test_a_creteil_technician_gets_404_on_a_fresnes_item(app, make_user, places):
    _email, secret = _technician(app, make_user, places)
    api = app.test_client()
    theirs = places["fresnes"]["items"][0]
    missing = api.get(f"/api/v1/assets/{theirs}", headers=bearer(secret))
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    patch = api.patch(f"/api/v1/assets/{theirs}", json={"version": 1}, headers=bearer(secret))
    assert patch.status_code == 404
    # An administrator's session in the same client changes nothing: the token decides.
    admin, _admin_email = signed_in(app, make_user, "admin")
    assert admin.get(f"/equipements/{theirs}").status_code == 200
    assert admin.get(f"/api/v1/assets/{theirs}", headers=bearer(secret)).status_code == 404
    mine = places["creteil"]["items"][0]
    found = api.get(f"/api/v1/assets/{mine}", headers=bearer(secret))
    assert found.status_code == 200 and found.get_json()["id"] == mine
    assert found.headers["ETag"] == f'"{found.get_json()["version"]}"'


def test_walking_the_cursor_pages_gives_every_item_once(app, make_user, places, db_session):
    _email, secret = _technician(app, make_user, places)
    api = app.test_client()
    seen: list[int] = []
    cursor = ""
    for _ in range(10):
        url = "/api/v1/assets?limit=5" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url, headers=bearer(secret)).get_json()
        assert len(page["items"]) <= 5
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = db_session.scalars(
        select(Asset.id)
        .where(Asset.collectivite_id == places["coll"]["Créteil"])
        .order_by(Asset.id.desc())
    ).all()
    assert seen == expected and len(seen) == len(set(seen)) == 23
    # The equipment list's filters: an ecole, a status.
    one_school = api.get(
        f"/api/v1/assets?limit=200&ecole={places['creteil']['ecole']}&status=delivered",
        headers=bearer(secret),
    ).get_json()
    assert {a["id"] for a in one_school["items"]} == set(places["creteil"]["items"])
    none = api.get("/api/v1/assets?status=retired", headers=bearer(secret)).get_json()
    assert none["items"] == [] and none["next_cursor"] is None
    bad = api.get("/api/v1/assets?limit=0", headers=bearer(secret))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "limit"
    short = api.get("/api/v1/assets?q=ab", headers=bearer(secret))
    assert short.status_code == 422 and short.get_json()["errors"][0]["field"] == "q"
    cursor = api.get("/api/v1/assets?cursor=abc", headers=bearer(secret))
    assert cursor.status_code == 422 and cursor.get_json()["errors"][0]["field"] == "cursor"


def test_patch_saves_through_the_service_with_the_token_user_in_the_log(
    app, make_user, places, db_session
):
    email, secret = _technician(app, make_user, places)
    api = app.test_client()
    item = places["creteil"]["items"][0]
    version = api.get(f"/api/v1/assets/{item}", headers=bearer(secret)).get_json()["version"]
    saved = api.patch(
        f"/api/v1/assets/{item}",
        json={"version": version, "serial": "sn-api-1", "ip": "10.0.0.5"},
        headers=bearer(secret),
    )
    assert saved.status_code == 200, saved.data
    body = saved.get_json()
    assert body["serial"] == "SN-API-1" and body["ip"] == "10.0.0.5"
    assert body["version"] > version and saved.headers["ETag"] == f'"{body["version"]}"'
    asset = fresh(db_session, Asset, item)
    assert asset.serial == "SN-API-1" and asset.version == body["version"]
    record = db_session.scalars(
        select(AuditRecord)
        .filter_by(object_type="assets", object_id=item, action="update")
        .order_by(AuditRecord.id.desc())
    ).first()
    assert record.actor_label == f"{email} (API)"
    assert record.changes["serial"] == [None, "SN-API-1"]
    # If-Match alone, current: saved.
    again = api.patch(
        f"/api/v1/assets/{item}",
        json={"notes": "vu par le MDM"},
        headers=bearer(secret, **{"If-Match": saved.headers["ETag"]}),
    )
    assert again.status_code == 200 and again.get_json()["notes"] == "vu par le MDM"


def test_a_stale_version_is_a_conflict(app, make_user, places, db_session):
    _email, secret = _technician(app, make_user, places)
    api = app.test_client()
    item = places["creteil"]["items"][1]
    version = fresh(db_session, Asset, item).version
    first = api.patch(
        f"/api/v1/assets/{item}", json={"version": version, "notes": "a"}, headers=bearer(secret)
    )
    assert first.status_code == 200
    stale = api.patch(
        f"/api/v1/assets/{item}", json={"version": version, "notes": "b"}, headers=bearer(secret)
    )
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    assert stale.get_json()["detail"].startswith("Quelqu'un d'autre a enregistré")
    precondition = api.patch(
        f"/api/v1/assets/{item}",
        json={"notes": "c"},
        headers=bearer(secret, **{"If-Match": f'"{version}"'}),
    )
    assert precondition.status_code == 412
    without = api.patch(f"/api/v1/assets/{item}", json={"notes": "d"}, headers=bearer(secret))
    assert without.status_code == 428
    assert fresh(db_session, Asset, item).notes == "a"


def test_a_bad_payload_is_a_problem_in_french(app, make_user, places, db_session):
    _email, secret = _technician(app, make_user, places)
    api = app.test_client()
    item = places["creteil"]["items"][2]
    fr = bearer(secret, **{"Accept-Language": "fr"})
    wrong_ip = api.patch(
        f"/api/v1/assets/{item}", json={"version": 1, "ip": "pas-une-ip"}, headers=fr
    )
    assert wrong_ip.status_code == 422 and wrong_ip.mimetype == "application/problem+json"
    body = wrong_ip.get_json()
    assert body["title"] == "Requête invalide"
    assert body["errors"] == [
        {"field": "ip", "message": "«\u00a0pas-une-ip\u00a0» n'est pas une adresse IP."}
    ]
    typed = api.patch(
        f"/api/v1/assets/{item}", json={"version": "deux", "colour": "red"}, headers=fr
    ).get_json()
    assert typed["status"] == 422
    assert {(e["field"], e["message"]) for e in typed["errors"]} == {
        ("version", "Entier non valide."),
        ("colour", "Champ inconnu."),
    }
    assert fresh(db_session, Asset, item).ip is None


def test_the_openapi_description_validates_and_the_page_lists_it(app, make_user, registry):
    api = app.test_client()
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    paths = spec["paths"]
    assert {"/schools", "/schools/{ecole_id}", "/assets", "/assets/{asset_id}"} <= set(
        p.removeprefix("/api/v1") for p in paths
    )
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # The webhooks: one request per event, its body's schema and the signature headers.
    hooks = spec["x-webhooks"]
    assert set(hooks) == set(events.NAMES)
    resolved = hooks["ticket.resolved"]["post"]
    assert {p["name"] for p in resolved["parameters"]} >= {"X-Socle-Signature", "X-Socle-Timestamp"}
    body = resolved["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    delivery = spec["components"]["schemas"][body.rsplit("/", 1)[-1]]
    assert delivery["properties"]["event"]["enum"] == ["ticket.resolved"]
    page = api.get("/api/v1/docs", headers={"Accept-Language": "fr"})
    assert page.status_code == 200
    assert "Documentation de l" in page.text and "PATCH /api/v1/assets/{asset_id}" in page.text
    # No script of its own: only the frame's menu script, served by the app (no CDN).
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert len(scripts) == 1 and re.fullmatch(
        r'<script src="/static/js/menu\.js\?v=[0-9a-f]{12}" defer>', scripts[0]
    ), scripts
    assert "AssetPatch" in page.text
    assert "Modifier les champs" in page.text
    # The record endpoints are described too, their summaries in the page's language.
    assert {
        "/tickets",
        "/tickets/{ticket_id}/status",
        "/dossiers/{dossier_id}/expenses",
        "/expenses/{expense_id}",
        "/training-sessions/{session_id}/report",
        "/figures/academies/{academie_id}",
        "/assets/{asset_id}/history",
    } <= set(p.removeprefix("/api/v1") for p in paths)
    assert "POST /api/v1/tickets/{ticket_id}/status" in page.text
    assert "Faire passer un ticket à un autre statut" in page.text
    assert "Les indicateurs du socle et du tableau de bord de ce niveau" in page.text
