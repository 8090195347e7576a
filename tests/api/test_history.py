"""The change log of one object through /api/v1: readable as its page's history (labels
and values in the request's language), the token's user marked as API, a school's
including what is in it, and 404 outside scope."""

from __future__ import annotations

from tests.factories import bearer

FR = {"Accept-Language": "fr"}


def test_an_items_history_reads_like_its_page_and_names_the_api(app, programme, creteil_technician):
    email, secret = creteil_technician
    api = app.test_client()
    item = programme["assets"]["eni_a"]
    version = api.get(f"/api/v1/assets/{item}", headers=bearer(secret)).get_json()["version"]
    saved = api.patch(
        f"/api/v1/assets/{item}",
        json={"version": version, "serial": "eni-api-7"},
        headers=bearer(secret),
    )
    assert saved.status_code == 200
    entries = api.get(f"/api/v1/assets/{item}/history?limit=5", headers=bearer(secret, **FR))
    assert entries.status_code == 200
    latest = entries.get_json()["items"][0]
    assert latest["action"] == "update" and latest["object_id"] == item
    assert latest["type_label"] == "Équipement"
    change = next(c for c in latest["changes"] if c["field"] == "serial")
    assert change["label"] == "Numéro de série" and change["after"] == "ENI-API-7"
    assert change["before"] == "ENI-A1" and "ENI-API-7" in latest["summary"]
    assert latest["actor"] == email.split("@")[0].title()  # the account's name
    assert latest["actor_label"] == f"{email} (API)"
    school = api.get(
        f"/api/v1/schools/{programme['schools']['a']}/history", headers=bearer(secret)
    ).get_json()["items"]
    assert latest["id"] in {e["id"] for e in school}
    in_english = api.get(
        f"/api/v1/assets/{item}/history?limit=1",
        headers=bearer(secret, **{"Accept-Language": "en"}),
    ).get_json()["items"][0]
    assert next(c for c in in_english["changes"] if c["field"] == "serial")["label"] == (
        "Serial number"
    )


def test_history_outside_scope_is_not_found(app, programme, creteil_technician):
    _email, secret = creteil_technician
    api = app.test_client()
    for path in (
        f"/api/v1/assets/{programme['assets']['tni_c']}/history",
        f"/api/v1/schools/{programme['schools']['c']}/history",
        f"/api/v1/dossiers/{programme['dossiers']['fresnes']}/history",
    ):
        answer = api.get(path, headers=bearer(secret))
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json", path
    bad = api.get(
        f"/api/v1/assets/{programme['assets']['eni_a']}/history?limit=0", headers=bearer(secret)
    )
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "limit"


def test_a_long_history_reads_in_cursor_pages_without_a_gap(app, programme, creteil_technician):
    """A school's changes, two by two along the cursor: every record once, newest first,
    the same as one page of them all; a cursor that is not one is a field error."""
    _email, secret = creteil_technician
    api = app.test_client()
    url = f"/api/v1/schools/{programme['schools']['a']}/history"
    whole = api.get(f"{url}?limit=200", headers=bearer(secret)).get_json()
    assert whole["next_cursor"] is None and whole["total"] == len(whole["items"]) > 4
    seen, cursor = [], None
    while True:
        page = api.get(
            f"{url}?limit=2" + (f"&cursor={cursor}" if cursor else ""), headers=bearer(secret)
        ).get_json()
        assert len(page["items"]) <= 2 and page["total"] == whole["total"]
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in whole["items"]] == sorted(seen, reverse=True)
    dossier = programme["dossiers"]["creteil"]
    first = api.get(f"/api/v1/dossiers/{dossier}/history?limit=1", headers=bearer(secret))
    rest = api.get(
        f"/api/v1/dossiers/{dossier}/history?cursor={first.get_json()['next_cursor']}",
        headers=bearer(secret),
    ).get_json()
    kinds = {e["object_type"] for e in rest["items"]}
    assert {"expenses", "payments"} <= kinds | {first.get_json()["items"][0]["object_type"]}
    wrong = api.get(f"{url}?cursor=abc", headers=bearer(secret))
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "cursor"
