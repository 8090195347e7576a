"""With CSRF protection on (as in production) an API write needs no CSRF token, and each
token has its own rate limit."""

from __future__ import annotations

import pytest

from tests.factories import api_token, bearer


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True, "API_RATE_LIMIT": "4 per minute"}


def test_api_writes_need_no_csrf_token_and_pages_still_do(app, make_user, places):
    email = make_user("technicien", [("collectivite", places["coll"]["Créteil"])])
    secret = api_token(app, email, scope="write")
    item = places["creteil"]["items"][0]
    api = app.test_client()
    saved = api.patch(
        f"/api/v1/assets/{item}", json={"version": 1, "notes": "MDM"}, headers=bearer(secret)
    )
    assert saved.status_code == 200, saved.data
    # The pages keep their CSRF check: a form posted without its token is refused.
    assert app.test_client().post("/login", data={"email": email}).status_code == 400


def test_each_token_counts_its_own_requests(app, make_user, places):
    email = make_user("auditeur", [("academie", 1)])
    first, second = api_token(app, email), api_token(app, email)
    api = app.test_client()
    answers = [api.get("/api/v1/schools", headers=bearer(first)).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]
    limited = api.get("/api/v1/schools", headers=bearer(first))
    assert limited.status_code == 429 and limited.mimetype == "application/problem+json"
    assert api.get("/api/v1/schools", headers=bearer(second)).status_code == 200


def test_a_tokens_budget_is_one_across_the_api(app, make_user, places):
    """The record endpoints (tickets, figures…) count in the same budget as the first ones:
    a script cannot spread its calls to get more."""
    email = make_user("auditeur", [("academie", 1)])
    secret = api_token(app, email)
    api = app.test_client()
    answers = [
        api.get(path, headers=bearer(secret)).status_code
        for path in (
            "/api/v1/schools",
            "/api/v1/tickets",
            "/api/v1/schools",
            "/api/v1/figures?children=false",
            "/api/v1/tickets",
        )
    ]
    assert answers == [200, 200, 200, 200, 429]
    limited = api.get("/api/v1/dossiers", headers=bearer(secret))
    assert limited.status_code == 429 and limited.mimetype == "application/problem+json"
