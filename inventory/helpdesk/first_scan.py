"""A label's first scan on a phone, answered before Flask's request handling.

The public scan page is the most requested page of Socle, and most of its requests are a
phone's first visit: no cookie, no query. For those, once the page's parts are kept
(helpdesk.page_cache), the answer is the kept page with the visitor's new session and
CSRF token; what Flask would add on the way (the signed-in user, the locale, the session,
the change log's actor, the security headers) is either absent for such a visitor or
made here by the same functions. The headers, the same for every such answer but the
session cookie's value and the length, are made once per scheme by Flask's own code and
kept. Flask's request cycle, its hooks and extensions cost more than the page itself:
this answers in a fraction of it.

Anything else (a cookie, a query, a POST, an unknown or replaced label, a part not kept
yet, an error) goes through Flask as usual, and the tests compare both answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from flask.wrappers import Response
from itsdangerous import BadData

from inventory.core.signing import csrf_secret, new_csrf_value, sign_csrf
from inventory.helpdesk import services
from inventory.helpdesk.views import PUBLIC_HEADERS, kept_page
from inventory.web import add_security_headers, locale_for_header

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_PATH = re.compile(r"/[qQ]/([0-9A-Za-z]{1,64})")


_COOKIE_SLOT = "first-scan-cookie-slot"
Headers = list[tuple[str, str]]


class FirstScan:
    """WSGI middleware answering a cookie-less ``GET /q/<token>`` from the kept page."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.engine: Any = None
        # Per scheme: the answer's headers but its length, and its session cookie with a
        # slot for the value; None when they cannot be kept.
        self._headers: dict[bool, tuple[Headers, str] | None] = {}
        self.answered = 0  # how many requests it answered (tests, benchmarks)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if (
            environ.get("REQUEST_METHOD") == "GET"
            and not environ.get("HTTP_COOKIE")
            and not environ.get("QUERY_STRING")
        ):
            match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
            if match is not None:
                try:
                    answer = self.answer(environ, match.group(1))
                except Exception:  # Flask answers it, with its error handling
                    self.app.logger.exception("first scan of %s", match.group(1))
                    answer = None
                if answer is not None:
                    self.answered += 1
                    headers, body = answer
                    start_response("200 OK", headers)
                    return [body]
        return self.wsgi_app(environ, start_response)

    def answer(self, environ: dict[str, Any], token: str) -> tuple[Headers, bytes] | None:
        """The answer's headers and body, or None for Flask to answer."""
        app = self.app
        if self.engine is None:
            from inventory.extensions import db

            with app.app_context():
                self.engine = db.engine
        page = services.public_page(self.engine, token)
        if page is None or page.revoked:
            return None
        config = app.config
        secure = environ.get("wsgi.url_scheme") == "https" or bool(
            config.get("SESSION_COOKIE_SECURE")
        )
        kept = self._headers.get(secure, False)
        if kept is False:
            kept = self._headers[secure] = self._answer_headers(secure)
        if kept is None:
            return None
        locale = locale_for_header(
            environ.get("HTTP_ACCEPT_LANGUAGE", ""), tuple(config["LANGUAGES"])
        )
        raw = new_csrf_value()
        html = kept_page(
            app,
            page,
            locale,
            script_root=environ.get("SCRIPT_NAME", "").rstrip("/"),
            path=environ["PATH_INFO"],
            csrf=sign_csrf(raw, csrf_secret(config, app.secret_key)),
        )
        if html is None:
            return None
        body = html.encode()
        headers, cookie = kept
        # The visitor's new session holds what their token is checked against, signed by
        # the serializer of Flask's session interface.
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        value = serializer.dumps({self._csrf_field(): raw})
        return [
            *headers,
            ("Content-Length", str(len(body))),
            ("Set-Cookie", cookie.replace(_COOKIE_SLOT, value)),
        ], body

    def _csrf_field(self) -> str:
        return str(self.app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))

    def _answer_headers(self, secure: bool) -> tuple[Headers, str] | None:
        """The headers Flask's path gives a new visitor's page: made once per scheme by
        the same code (a response with the page's headers, a new session saved by Flask's
        own ``save_session``, the security headers), with a slot for the cookie's value.
        None when the cookie holds more than its value (an expiry date, a quoted value):
        Flask then answers every first scan."""
        app = self.app
        interface = app.session_interface
        session = interface.session_class()
        session[self._csrf_field()] = new_csrf_value()
        response = Response(b"", headers=PUBLIC_HEADERS, mimetype="text/html")
        interface.save_session(app, session, response)
        add_security_headers(response.headers, secure)
        headers = [(k, v) for k, v in response.headers.to_wsgi_list() if k != "Content-Length"]
        cookies = [v for k, v in headers if k == "Set-Cookie"]
        if len(cookies) != 1 or any(a in cookies[0].lower() for a in ("expires=", "max-age=")):
            return None
        name, _, rest = cookies[0].partition("=")
        value, sep, attributes = rest.partition(";")
        serializer = interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        try:
            plain = name == app.config["SESSION_COOKIE_NAME"] and serializer.loads(value) == session
        except BadData:
            plain = False
        if not plain:
            return None
        others = [(k, v) for k, v in headers if k != "Set-Cookie"]
        return others, f"{name}={_COOKIE_SLOT}{sep}{attributes}"


def install(app: Flask) -> None:
    """Put the first-scan answer in front of the app (inside any proxy fix, which must
    have set the scheme and addresses before)."""
    first_scan = FirstScan(app, app.wsgi_app)
    app.extensions["helpdesk_first_scan"] = first_scan
    app.wsgi_app = first_scan  # type: ignore[method-assign]
