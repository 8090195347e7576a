"""A label's first scan on a phone, answered before Flask's request handling.

The public scan page is the most requested page of Socle, and most of its requests are a
phone's first visit: no cookie, no query. For those, once the page's parts are kept
(helpdesk.page_cache), the answer is the kept page with the visitor's new session and
CSRF token; what Flask would add on the way (the signed-in user, the locale, the session,
the change log's actor, the security headers) is either absent for such a visitor or
made here by the same functions. Flask's request cycle, its hooks and extensions cost
more than the page itself: this answers in a fraction of it.

Anything else (a cookie, a query, a POST, an unknown or replaced label, a part not kept
yet, an error) goes through Flask as usual, and the tests compare both answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from flask.wrappers import Response

from inventory.core.signing import csrf_secret, new_csrf_value, sign_csrf
from inventory.helpdesk import services
from inventory.helpdesk.views import PUBLIC_HEADERS, kept_page
from inventory.web import add_security_headers, locale_for_header

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_PATH = re.compile(r"/[qQ]/([0-9A-Za-z]{1,64})")


class FirstScan:
    """WSGI middleware answering a cookie-less ``GET /q/<token>`` from the kept page."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.engine: Any = None
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
                    response = self.answer(environ, match.group(1))
                except Exception:  # Flask answers it, with its error handling
                    self.app.logger.exception("first scan of %s", match.group(1))
                    response = None
                if response is not None:
                    self.answered += 1
                    return response(environ, start_response)
        return self.wsgi_app(environ, start_response)

    def answer(self, environ: dict[str, Any], token: str) -> Response | None:
        app = self.app
        if self.engine is None:
            from inventory.extensions import db

            with app.app_context():
                self.engine = db.engine
        page = services.public_page(self.engine, token)
        if page is None or page.revoked:
            return None
        config = app.config
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
        response = Response(html, headers=PUBLIC_HEADERS, mimetype="text/html")
        # The visitor's new session, holding what their token is checked against, saved
        # by Flask's own session interface.
        interface = app.session_interface
        session = interface.session_class()
        session[config.get("WTF_CSRF_FIELD_NAME", "csrf_token")] = raw
        interface.save_session(app, session, response)
        secure = environ.get("wsgi.url_scheme") == "https" or bool(
            config.get("SESSION_COOKIE_SECURE")
        )
        add_security_headers(response.headers, secure)
        return response


def install(app: Flask) -> None:
    """Put the first-scan answer in front of the app (inside any proxy fix, which must
    have set the scheme and addresses before)."""
    first_scan = FirstScan(app, app.wsgi_app)
    app.extensions["helpdesk_first_scan"] = first_scan
    app.wsgi_app = first_scan  # type: ignore[method-assign]
