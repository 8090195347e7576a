"""The parts of the pages' frame that depend on nothing but the page's language: the
stylesheet links, the skip link, the site's name, the footer, the public pages' language
switch (templates/_frame). Each is rendered once per language and kept, then printed as
it is: on the public scan page, the most requested one, the frame cost as much as the
page's own content, for the same few lines every time.

This is a plain memo of rendered fragments, a few per language, held by each worker: the
parts hold no data (the database is never read for them), only the templates' text in a
catalogue, so a kept part is never out of date while the process runs. A part may show
nothing of the request, the session or the user; what depends on them (the title, the
signed-in user's menu, the session's language form and its CSRF token, the messages)
stays in base.html, rendered for each page. While templates are reloaded when they change
(``TEMPLATES_AUTO_RELOAD``, debug), nothing is kept.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

FOLDER = "_frame"
_KEY = "frame_parts"
# The page's context entry that says which kept parts it prints (see page_key).
PAGE_KEY = "_frame_key"
# Parts × languages × the app's mount points (one in practice): a bound, never reached.
KEPT = 64


def page_key() -> tuple[str, str]:
    """What the kept parts of a page depend on: its locale, and the app's mount point (the
    links are paths under it, which the server gives per request). Worked out once per
    rendering, by the page's context processor, rather than once per part."""
    locale = get_locale()
    return (str(locale) if locale is not None else "", request.script_root)


@pass_context
def frame_part(context: Context, name: str) -> Markup:
    """The frame's part ``name`` (templates/_frame/<name>.html) in the page's language."""
    app = current_app
    kept: dict[tuple[str, Any], Markup] = app.extensions[_KEY]
    # A template rendered without the context processors (an imported macro's) has no
    # page key: it works it out itself.
    page = context.get(PAGE_KEY) or page_key()
    key = (name, page)
    html = kept.get(key)
    if html is None:
        # Rendered with the environment's globals only (url_for, the translations), never
        # the page's context: nothing of the request can get into what is kept.
        html = Markup(app.jinja_env.get_template(f"{FOLDER}/{name}.html").render())
        if not app.jinja_env.auto_reload:
            if len(kept) >= KEPT:
                kept.clear()
            kept[key] = html
    return html


def install(app: Flask) -> None:
    app.extensions[_KEY] = {}
    app.jinja_env.globals["frame_part"] = frame_part


def page_context() -> dict[str, Any]:
    """The page key, for the context processor of every page (web.install's, which adds
    it to what it gives every page rather than being one more processor to call)."""
    return {PAGE_KEY: page_key()} if has_request_context() else {}
