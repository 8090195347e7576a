"""Equipment writes through the API: one item, many all-or-nothing, status and moves
with optimistic locking, a selection with its report; sparse field sets and cursors."""

from __future__ import annotations

from sqlalchemy import func, select

from inventory.assets.models import Asset, AssetStatus, StatusChange
from inventory.core.audit import AuditRecord
from inventory.orgs.models import Classroom
from tests.factories import api_token, bearer, fresh

NEW = {"category": "eni", "manufacturer": "Speechi", "model": "SPE-86"}


def _technician(app, make_user, places, scope="write"):
    email = make_user("technicien", [("collectivite", places["coll"]["Créteil"])])
    return email, api_token(app, email, scope=scope)


def _other_room(db_session, places):
    return db_session.scalar(
        select(Classroom.id)
        .where(
            Classroom.ecole_id == places["creteil"]["ecole"],
            Classroom.id != places["creteil"]["room"],
        )
        .limit(1)
    )


def _count(db_session, *where):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Asset).where(*where))


def test_one_item_is_recorded_with_its_location_and_the_api_actor(
    app, make_user, places, db_session
):
    email, secret = _technician(app, make_user, places)
    api = app.test_client()
    room = places["creteil"]["room"]
    made = api.post(
        "/api/v1/assets",
        json={**NEW, "classroom_id": room, "serial": "sn-86-1", "status": "in_service"},
        headers=bearer(secret),
    )
    assert made.status_code == 201, made.data
    body = made.get_json()
    assert made.headers["Location"] == f"/api/v1/assets/{body['id']}"
    assert made.headers["ETag"] == f'"{body["version"]}"'
    assert body["serial"] == "SN-86-1" and body["classroom_id"] == room
    assert body["status"] == "in_service" and body["model"] == "SPE-86" and body["tag"]
    record = db_session.scalar(
        select(AuditRecord).filter_by(object_type="assets", object_id=body["id"], action="create")
    )
    assert record.actor_label == f"{email} (API)"
    step = db_session.scalar(select(StatusChange).filter_by(asset_id=body["id"]))
    assert step.to_status is AssetStatus.IN_SERVICE and step.actor_label == f"{email} (API)"
    # A place out of scope: 404, as the page; a read-only token: 403.
    theirs = api.post(
        "/api/v1/assets",
        json={**NEW, "classroom_id": places["fresnes"]["room"]},
        headers=bearer(secret),
    )
    assert theirs.status_code == 404
    reader = api_token(app, email, scope="read")
    assert api.post("/api/v1/assets", json=NEW, headers=bearer(reader)).status_code == 403


def test_bulk_create_records_all_in_order_or_nothing(app, make_user, places, db_session):
    email, secret = _technician(app, make_user, places)
    api = app.test_client()
    room = places["creteil"]["room"]
    before = _count(db_session)
    rows = [{**NEW, "classroom_id": room, "serial": f"BULK-{n:03}"} for n in range(50)]
    made = api.post("/api/v1/assets/bulk", json={"items": rows}, headers=bearer(secret))
    assert made.status_code == 201, made.data
    items = made.get_json()["items"]
    assert len(items) == 50 == _count(db_session) - before
    found = dict(
        db_session.execute(
            select(Asset.id, Asset.serial).where(Asset.id.in_([i["id"] for i in items]))
        ).all()
    )
    assert [found[i["id"]] for i in items] == [r["serial"] for r in rows]
    logged = db_session.scalar(
        select(func.count())
        .select_from(AuditRecord)
        .where(
            AuditRecord.object_type == "assets",
            AuditRecord.action == "create",
            AuditRecord.actor_label == f"{email} (API)",
        )
    )
    assert logged == 50
    # One serial already recorded, one typed twice, an address that is none: nothing
    # written, every refusal named by position, in French.
    wrong = [
        {**NEW, "classroom_id": room, "serial": "NEW-1"},
        {**NEW, "classroom_id": room, "serial": "BULK-007"},
        {**NEW, "classroom_id": room, "serial": "NEW-2", "ip": "pas-une-ip"},
        {**NEW, "classroom_id": room, "serial": "NEW-1"},
        {**NEW, "classroom_id": places["fresnes"]["room"], "serial": "NEW-3"},
    ]
    refused = api.post(
        "/api/v1/assets/bulk",
        json={"items": wrong},
        headers=bearer(secret, **{"Accept-Language": "fr"}),
    )
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    fields = [e["field"] for e in refused.get_json()["errors"]]
    assert fields == ["items.4.destination"]  # the places are checked first
    refused = api.post(
        "/api/v1/assets/bulk",
        json={"items": wrong[:4]},
        headers=bearer(secret, **{"Accept-Language": "fr"}),
    )
    errors = {e["field"]: e["message"] for e in refused.get_json()["errors"]}
    assert set(errors) == {"items.1.serial", "items.2.ip", "items.3.serial"}
    assert errors["items.2.ip"] == "«\u00a0pas-une-ip\u00a0» n'est pas une adresse IP."
    taken = fresh(db_session, Asset, places["creteil"]["items"][0]).tag
    tags = [
        {**NEW, "classroom_id": room, "tag": "api-t1"},
        {**NEW, "classroom_id": room, "tag": "API-T1"},
        {**NEW, "classroom_id": room, "tag": taken},
        {**NEW, "classroom_id": room, "tag": "é"},
    ]
    refused = api.post("/api/v1/assets/bulk", json={"items": tags}, headers=bearer(secret))
    assert [e["field"] for e in refused.get_json()["errors"]] == [
        "items.1.tag",
        "items.2.tag",
        "items.3.tag",
    ]
    assert _count(db_session) - before == 50
    assert _count(db_session, Asset.serial == "NEW-1") == 0
    assert _count(db_session, Asset.tag == "API-T1") == 0
    # The body's shape is checked too: no item, too many, a field of the wrong type.
    assert (
        api.post("/api/v1/assets/bulk", json={"items": []}, headers=bearer(secret)).status_code
        == 422
    )
    typed = api.post(
        "/api/v1/assets/bulk",
        json={"items": [{**NEW, "classroom_id": "deux"}]},
        headers=bearer(secret),
    ).get_json()
    assert typed["errors"][0]["field"] == "items.0.classroom_id"


def test_bulk_serials_are_checked_per_model_and_items_start_at_version_one(
    app, make_user, places, db_session
):
    _email, secret = _technician(app, make_user, places)
    api = app.test_client()
    room = places["creteil"]["room"]
    other = {"category": "vpi", "manufacturer": "Epson", "model": "EB-725"}
    first = [{**NEW, "classroom_id": room, "serial": f"PM-{n}"} for n in range(3)]
    made = api.post("/api/v1/assets/bulk", json={"items": first}, headers=bearer(secret))
    assert made.status_code == 201, made.data
    # The same serials for another model are other items; for the same model, refused by
    # position, with the tag of the item that has it; a model's serial typed for another
    # in the same request clashes with nothing.
    mixed = [
        {**other, "classroom_id": room, "serial": "PM-0", "status": "in_service"},
        {**NEW, "classroom_id": room, "serial": "PM-1"},
        {**other, "classroom_id": room, "serial": "PM-2"},
        {**NEW, "classroom_id": room, "serial": "PM-9"},
        {**other, "classroom_id": room, "serial": "PM-9"},
    ]
    refused = api.post("/api/v1/assets/bulk", json={"items": mixed}, headers=bearer(secret))
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]
    assert [e["field"] for e in errors] == ["items.1.serial"]
    assert made.get_json()["items"][1]["tag"] in errors[0]["message"]
    del mixed[1]
    done = api.post("/api/v1/assets/bulk", json={"items": mixed}, headers=bearer(secret))
    assert done.status_code == 201, done.data
    ids = [i["id"] for i in done.get_json()["items"]]
    db_session.expire_all()
    rows = db_session.execute(
        select(Asset.id, Asset.serial, Asset.version, Asset.status).where(Asset.id.in_(ids))
    ).all()
    assert sorted((r.serial, r.version) for r in rows) == [
        ("PM-0", 1),
        ("PM-2", 1),
        ("PM-9", 1),
        ("PM-9", 1),
    ]
    steps = db_session.scalars(
        select(StatusChange.to_status).where(StatusChange.asset_id == ids[0])
    )
    assert list(steps) == [AssetStatus.IN_SERVICE]
    read = api.get(f"/api/v1/assets/{ids[0]}", headers=bearer(secret))
    assert read.status_code == 200 and read.headers["ETag"] == '"1"'


def test_status_changes_need_the_version_read(app, make_user, places, db_session):
    _email, secret = _technician(app, make_user, places)
    api = app.test_client()
    item = places["creteil"]["items"][0]
    url = f"/api/v1/assets/{item}/status"
    version = fresh(db_session, Asset, item).version
    assert api.post(url, json={"status": "installed"}, headers=bearer(secret)).status_code == 428
    done = api.post(
        url,
        json={"status": "installed", "version": version, "note": "posé"},
        headers=bearer(secret),
    )
    assert done.status_code == 200, done.data
    assert done.get_json()["status"] == "installed" and done.get_json()["version"] > version
    stale = api.post(url, json={"status": "in_service", "version": version}, headers=bearer(secret))
    assert stale.status_code == 409
    header = api.post(
        url, json={"status": "in_service"}, headers=bearer(secret, **{"If-Match": f'"{version}"'})
    )
    assert header.status_code == 412
    current = done.headers["ETag"]
    retired = api.post(
        url, json={"status": "retired"}, headers=bearer(secret, **{"If-Match": current})
    )
    assert retired.status_code == 200 and retired.get_json()["status"] == "retired"
    # A retired item goes nowhere: the lifecycle's refusal, translated, on the field.
    back = api.post(
        url,
        json={"status": "in_service", "version": retired.get_json()["version"]},
        headers=bearer(secret, **{"Accept-Language": "fr"}),
    )
    assert back.status_code == 422
    assert back.get_json()["errors"][0]["field"] == "status"
    assert "ne peut pas passer" in back.get_json()["errors"][0]["message"]
    assert fresh(db_session, Asset, item).status is AssetStatus.RETIRED
    theirs = places["fresnes"]["items"][0]
    assert (
        api.post(
            f"/api/v1/assets/{theirs}/status",
            json={"status": "lost", "version": 1},
            headers=bearer(secret),
        ).status_code
        == 404
    )


def test_an_item_moves_between_classrooms(app, make_user, places, db_session):
    _email, secret = _technician(app, make_user, places)
    api = app.test_client()
    item = places["creteil"]["items"][1]
    other = _other_room(db_session, places)
    url = f"/api/v1/assets/{item}/move"
    version = fresh(db_session, Asset, item).version
    moved = api.post(url, json={"classroom_id": other, "version": version}, headers=bearer(secret))
    assert moved.status_code == 200, moved.data
    assert moved.get_json()["classroom_id"] == other
    asset = fresh(db_session, Asset, item)
    assert asset.classroom_id == other and asset.placement.value == "classroom"
    record = db_session.scalars(
        select(AuditRecord)
        .filter_by(object_type="assets", object_id=item, action="update")
        .order_by(AuditRecord.id.desc())
    ).first()
    assert record.changes["classroom_id"] == [places["creteil"]["room"], other]
    away = api.post(
        url,
        json={"classroom_id": places["fresnes"]["room"], "version": asset.version},
        headers=bearer(secret),
    )
    assert away.status_code == 404
    storage = api.post(
        url,
        json={"collectivite_id": places["coll"]["Créteil"], "version": asset.version},
        headers=bearer(secret),
    )
    assert storage.status_code == 200 and storage.get_json()["placement"] == "storage"
    nowhere = api.post(url, json={"version": storage.get_json()["version"]}, headers=bearer(secret))
    assert nowhere.status_code == 422


def test_a_selection_changes_with_a_report_per_item(app, make_user, places, db_session):
    _email, secret = _technician(app, make_user, places)
    api = app.test_client()
    mine = places["creteil"]["items"][2:6]
    retired = mine[0]
    version = fresh(db_session, Asset, retired).version
    assert (
        api.post(
            f"/api/v1/assets/{retired}/status",
            json={"status": "retired", "version": version},
            headers=bearer(secret),
        ).status_code
        == 200
    )
    theirs = places["fresnes"]["items"][0]
    report = api.post(
        "/api/v1/assets/bulk-update",
        json={"ids": [*mine, theirs], "status": "installed"},
        headers=bearer(secret),
    )
    assert report.status_code == 200, report.data
    body = report.get_json()
    assert sorted(d["id"] for d in body["done"]) == sorted(mine[1:])
    assert [r["id"] for r in body["refused"]] == [retired] and body["refused"][0]["message"]
    assert body["not_found"] == [theirs]
    assert {fresh(db_session, Asset, i).status for i in mine[1:]} == {AssetStatus.INSTALLED}
    assert fresh(db_session, Asset, theirs).status is AssetStatus.DELIVERED
    other = _other_room(db_session, places)
    moved = api.post(
        "/api/v1/assets/bulk-update",
        json={"ids": mine[1:], "destination": {"classroom_id": other}},
        headers=bearer(secret),
    ).get_json()
    assert len(moved["done"]) == 3
    assert {fresh(db_session, Asset, i).classroom_id for i in mine[1:]} == {other}
    empty = api.post("/api/v1/assets/bulk-update", json={"ids": mine}, headers=bearer(secret))
    assert empty.status_code == 422


def test_sparse_field_sets_and_school_cursors(app, make_user, places, db_session):
    _email, secret = _technician(app, make_user, places)
    api = app.test_client()
    page = api.get("/api/v1/assets?limit=3&fields=id,tag", headers=bearer(secret)).get_json()
    assert [set(a) for a in page["items"]] == [{"id", "tag"}] * 3
    assert page["next_cursor"] and page["total"] == 23
    bad = api.get("/api/v1/assets?fields=id,colour", headers=bearer(secret))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "fields"
    seen, cursor = [], None
    for _ in range(100):
        url = "/api/v1/schools?limit=2&fields=id,uai" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(url, headers=bearer(secret)).get_json()
        assert all(set(s) == {"id", "uai"} for s in body["items"])
        seen += [s["id"] for s in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    full = api.get("/api/v1/schools?limit=200", headers=bearer(secret)).get_json()
    assert seen == [s["id"] for s in full["items"]] == sorted(seen, reverse=True)
    assert places["creteil"]["ecole"] in seen and places["fresnes"]["ecole"] not in seen
