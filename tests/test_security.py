"""Security by construction: CSRF, headers, cookies, configuration, templates."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import AnyConverter

from inventory import create_app
from inventory.paths import ROOT
from inventory.web import RowId
from tests.conftest import PASSWORD


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_every_form_posts_fail_without_a_csrf_token(app, client, make_user):
    email = make_user("admin")
    refused = client.post("/login", data={"email": email, "password": PASSWORD})
    assert refused.status_code == 400
    assert "(400)" in refused.get_data(as_text=True)
    token = csrf_token(client.get("/login").get_data(as_text=True))
    signed_in = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302
    # Every state-changing route refuses a POST without the token.
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint == "auth.login":
            continue
        values = {arg: 1 for arg in rule.arguments}
        values.update({k: "tok" for k in rule.arguments if k == "token"})
        values.update(
            {
                k: sorted(c.items)[0]
                for k, c in rule._converters.items()
                if isinstance(c, AnyConverter)
            }
        )
        url = rule.build(values)[1]
        response = client.post(url, data={"name": "x", "lang": "en"})
        # The API ignores the session: without a token, 401 whatever the cookie says.
        refusals = {401} if rule.rule.startswith("/api/") else {400, 404, 200, 302}
        assert response.status_code in refusals, url
        assert response.status_code != 302 or rule.endpoint in {
            "auth.reset_password",
            "auth.accept_invitation",
        }, url
    assert client.get("/").status_code == 200, "still signed in: logout needs the token too"


def test_every_page_form_carries_a_token(app, client, make_user):
    html = client.get("/login").get_data(as_text=True)
    for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", html, re.S):
        assert 'name="csrf_token"' in form


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_flags(client, make_user):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": make_user("admin"), "password": PASSWORD, "csrf_token": token}
    )
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure_and_the_dev_key_is_refused(database_url, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": database_url})
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "a-real-secret"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_no_inline_script_style_or_handlers_in_templates():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path.name}: inline <script>")
        if re.search(r"<style\b", text) or re.search(r"\sstyle=\"", text):
            offenders.append(f"{path.name}: inline style")
        if re.search(r"\son[a-z]+=\"", text):
            offenders.append(f"{path.name}: inline event handler")
    assert not offenders, offenders


def test_error_pages_in_both_languages(client):
    french = client.get("/nowhere")
    assert french.status_code == 404 and "Page introuvable" in french.get_data(as_text=True)
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post("/language", data={"lang": "en", "csrf_token": token}).status_code == 302
    english = client.get("/nowhere")
    assert "Page not found" in english.get_data(as_text=True)


def test_a_translated_message_filled_with_typed_text_is_escaped(app):
    """Flask-Babel's lazy strings call themselves safe HTML: a message holding what a
    visitor typed must still reach the page escaped."""
    from flask_babel import lazy_gettext

    message = lazy_gettext("Invalid UAI «%(uai)s».", uai="<script>alert(1)</script>")
    with app.test_request_context("/"):
        html = app.jinja_env.from_string("<p>{{ message }}</p>").render(message=message)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_id_no_row_can_have_is_not_found_not_a_crash(app, client, make_user):
    """A number beyond a 32-bit id (PostgreSQL's integer columns) answers 404 on the pages
    and on the API, instead of reaching the database driver."""
    email = make_user("admin")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    huge = str(2**31)
    tried = 0
    for rule in app.url_map.iter_rules():
        ints = [a for a, conv in rule._converters.items() if isinstance(conv, RowId)]
        if "GET" not in rule.methods or not ints or len(ints) != len(rule.arguments):
            continue
        url = rule.build(dict.fromkeys(ints, huge), append_unknown=False)[1]
        assert client.get(url).status_code == 404, url
        tried += 1
    assert tried > 50
