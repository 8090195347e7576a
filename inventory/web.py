"""What every page shares: locale, security headers, error pages, the acting user."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from typing import Any, TypeGuard, TypeVar
from urllib.parse import urlsplit

from babel.numbers import parse_pattern
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_translations
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

from inventory.core import audit, frames, health, logs, metrics, policy, storage
from inventory.core.errors import ConflictError
from inventory.core.policy import Action
from inventory.core.storage import Storage
from inventory.extensions import db, limiter

bp = Blueprint("web", __name__)


class RowId(IntegerConverter):
    """Flask's ``int`` in a URL, bounded to what an id column holds (32 bits on PostgreSQL):
    a larger number is no row's, so 404 at once rather than a crash of the database driver
    (a converter's plain refusal would let another method's rule answer 405)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > 2**31 - 1:
            raise NotFound()
        return int(number)


@dataclass(frozen=True)
class AccessRule:
    """What a view requires: an action (None: public page) and which URL argument names
    which model, so that the object is loaded through the policy; ``own``: the object is
    its owner's (and administrators') only, within the scope (a job's file)."""

    action: Action | None
    model: type | None = None
    arg: str | None = None
    own: bool = False


V = TypeVar("V", bound=Callable[..., Any])


def allow(
    action: Action | None, on: tuple[type, str] | None = None, *, own: bool = False
) -> Callable[[V], V]:
    """Declare a view's access rule. Every route must carry one (checked at start-up).

    With an action, the user must be signed in and their role must allow it; the view
    then loads its object with ``policy.load_or_404``, which applies the scope.
    """
    model, arg = on if on else (None, None)
    rule = AccessRule(action, model, arg, own)

    def decorate(view: V) -> V:
        if action is None:
            view.access_rule = rule  # type: ignore[attr-defined]
            return view

        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            policy.require(current_user, action)
            return view(*args, **kwargs)

        guarded.access_rule = rule  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def check_access_rules(app: Flask) -> None:
    """Refuse to start when a route has no declared access rule."""
    missing = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not hasattr(view, "access_rule")
    ]
    if missing:
        raise RuntimeError(f"routes without an access rule: {', '.join(sorted(missing))}")


def select_language() -> str:
    """The language asked for by the page's address (``?lang=``: the public pages' switch,
    which keeps no session), else chosen for the session, else the browser's."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    for wanted in (request.args.get("lang"), session.get("lang")):
        if wanted and wanted in languages:
            return wanted
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def select_locale() -> str:
    """The page's locale: its language (which catalogue the messages come from, the source
    for English) in the region whose dates and numbers it is written with (``en_GB``)."""
    language = select_language()
    return current_app.config["LANGUAGE_LOCALES"].get(language, language)


def language() -> str:
    """The page's language alone ("fr", "en"), for what is kept in both languages (the
    labels of reference data: ``label_fr``, ``label_en``)."""
    locale = get_locale()
    return locale.language if locale is not None else "fr"


def html_lang() -> str:
    """The page's language as ``<html lang>`` names it (BCP 47: ``fr``, ``en-GB``)."""
    locale = get_locale()
    if locale is None:
        return "fr"
    return f"{locale.language}-{locale.territory}" if locale.territory else locale.language


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def is_safe_next(target: str | None) -> TypeGuard[str]:
    """Only same-site paths may be redirected to."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and "\\" not in target


def safe_next(target: str | None, fallback: str) -> str:
    return target if is_safe_next(target) else fallback


@bp.post("/language")
@allow(None)
def set_language() -> Response:
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for("orgs.home")))


@bp.get("/healthz")
@allow(None)
@limiter.exempt
def healthz() -> tuple[Response, int]:
    """Each registered check (core.health) and its outcome; 503 when one fails. For a load
    balancer or a supervisor: no sign-in, no rate limit, no cookie."""
    outcomes = health.run(current_app)
    ok = all(o.ok for o in outcomes)
    body = {"status": "ok" if ok else "failing", "checks": {o.name: o.as_json() for o in outcomes}}
    return jsonify(body), 200 if ok else 503


@bp.get("/metrics")
@allow(None)
@limiter.exempt
def prometheus() -> Response:
    """The Prometheus metrics, for the allowed addresses (loopback unless configured) or
    the bearer token only; anyone else is told the page does not exist."""
    config = current_app.config
    if not metrics.may_read(request, config["METRICS_ALLOWED_IPS"], config["METRICS_TOKEN"]):
        abort(404)
    body, content_type = metrics.exposition(current_app)
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; media-src 'self' blob:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "geolocation=(), microphone=(), camera=(self)"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def add_security_headers(h: Headers, secure: bool) -> None:
    """The headers every answer carries, those a view set left as they are; ``secure``:
    served over HTTPS, or with cookies for HTTPS only."""
    # The names a view set are read once, rather than searched for each header
    # (Headers.setdefault scans the whole list every time).
    present = {name.lower() for name, _value in h.items()}
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            h.add(name, value)
    if secure and "strict-transport-security" not in present:
        h.add(*HSTS)
    if "cache-control" not in present and "text/html" in (h.get("Content-Type") or ""):
        h.add("Cache-Control", "no-store")


def _security_headers(response: Response) -> Response:
    secure = request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    add_security_headers(response.headers, secure)
    return response


def _bind_actor() -> None:
    if request.path.startswith("/api/"):
        return  # the API binds its token's user, never the session's (inventory.api.auth)
    ip = request.remote_addr
    if current_user.is_authenticated:
        actor = audit.Actor(current_user.id, current_user.email, ip)
    else:
        actor = audit.Actor(None, "anonymous", ip)
    g.audit_token = audit.set_actor(actor)


def _unbind_actor(_exc: BaseException | None) -> None:
    # The worker thread outlives the request: leave no actor behind for the next one.
    token = g.pop("audit_token", None)
    if token is not None:
        audit.unset_actor(token)


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An RFC 9457 problem details answer (``application/problem+json``); ``errors``, a
    list of ``{"field", "message"}``, says which fields a request got wrong."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _error(error: HTTPException) -> Any:
    if request.path.startswith("/api/"):
        return problem(error.code or 500, error.name, error.description)
    titles = {
        400: _("Bad request"),
        403: _("Access refused"),
        404: _("Page not found"),
        405: _("Method not allowed"),
        413: _("File too large"),
        429: _("Too many attempts"),
        500: _("Something went wrong"),
    }
    code = error.code or 500
    title = titles.get(code, error.name)
    return _error_page(code, title)


def _error_page(code: int, title: str) -> Any:
    """The error page in the site's frame; if the frame itself fails (it shows the signed-in
    user, whom the database may no longer give), the self-contained page."""
    try:
        return render_template("errors/error.html", code=code, title=title), code
    except DBAPIError as exc:
        return _database_unavailable(exc)


def _internal_error(error: Exception) -> Any:
    _rollback()
    return _error_page(500, _("Something went wrong"))


def _rollback() -> None:
    try:
        db.session.rollback()
    except DBAPIError:  # the connection is gone already: nothing to roll back
        db.session.close()


# How long a client (or a proxy) should wait before asking again, in seconds.
RETRY_AFTER = 30
# What a public report's form sent, shown again when it could not be saved.
_REPORT_FIELDS = ("problem", "description", "name", "email", "join")


# SQLite's errors that say the file cannot be used now (rather than a statement is wrong).
_SQLITE_UNAVAILABLE = ("SQLITE_CANTOPEN", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR")
# PostgreSQL's classes of the same: connection exception, insufficient resources (too many
# connections…), operator intervention (shutting down, starting up).
_SQLSTATE_UNAVAILABLE = ("08", "53", "57P")


def _is_unavailable(error: DBAPIError) -> bool:
    """The database could not be reached, or dropped the connection, rather than refused a
    statement (a missing table, a constraint, a deadlock…, which stay the code's errors)."""
    if error.connection_invalidated:
        return True
    sqlite_name = getattr(error.orig, "sqlite_errorname", None)
    if sqlite_name is not None:
        return str(sqlite_name).startswith(_SQLITE_UNAVAILABLE)
    if isinstance(error, OperationalError | InterfaceError):
        # psycopg raises a bare OperationalError, without a SQLSTATE, when it cannot connect.
        state = getattr(error.orig, "sqlstate", None)
        return state is None or str(state).startswith(_SQLSTATE_UNAVAILABLE)
    return False


def _database_unavailable(error: DBAPIError) -> Any:
    """503, with a page that needs nothing of the database; a public report's text is kept."""
    if not _is_unavailable(error):
        raise error
    current_app.logger.error(
        "Database unavailable (%s %s): %s", request.method, request.path, error.orig or error
    )
    _rollback()
    if request.path.startswith("/api/"):
        return problem(503, "Service Unavailable", headers={"Retry-After": str(RETRY_AFTER)})
    else:
        kept = None
        if request.endpoint == "public.report" and request.method == "POST":
            kept = {name: request.form.get(name, "") for name in _REPORT_FIELDS}
        # Rendered without the context processors: Flask-Login's would load the signed-in
        # user, from the database.
        page = current_app.jinja_env.get_template("errors/unavailable.html")
        body = page.render(code=503, title=_("Service unavailable"), kept=kept)
    return body, 503, {"Retry-After": str(RETRY_AFTER)}


def _conflict(error: Exception) -> tuple[str, int] | Response:
    """A record saved by someone else, met where no view answered it itself (an edit
    page answers with what was typed kept): 409 and the record's conflict message, never
    a server error. StaleDataError reaching here is a flush outside every service guard."""
    db.session.rollback()
    if isinstance(error, ConflictError):
        message = str(error.message)
    else:
        message = _("Someone else saved this record at the same moment. Reload it and try again.")
    if request.path.startswith("/api/"):
        return problem(409, "Conflict", message)
    title = _("Saved by someone else")
    return render_template("errors/error.html", code=409, title=title, message=message), 409


# Parsed once: a dossier page formats a thousand amounts.
_MONEY = parse_pattern("#,##0.00")


def _money(value: Decimal | int | float | None, cents: bool = False) -> str:
    if value is None:
        return ""
    if cents:
        value = Decimal(int(value)) / 100
    return _MONEY.apply(value, get_locale()) + "\u00a0€"


def _number(value: int | float | None) -> str:
    return "" if value is None else format_decimal(value)


def _when(value: datetime | None, fmt: str = "medium") -> str:
    return "" if value is None else format_datetime(value, fmt)


def _day(value: date | None) -> str:
    return "" if value is None else format_date(value, "medium")


# -- helpers for the views -----------------------------------------------------------------
def attach_error(form: Any, exc: Any, fallback: str, aliases: dict[str, str] | None = None) -> None:
    """Show a service's refusal (a DomainError) on the form field it names, or on
    ``fallback``; ``aliases`` maps the service's field names to the form's."""
    name = (aliases or {}).get(exc.field or "", exc.field or "")
    target = getattr(form, name, None) if name else None
    if target is None:
        target = getattr(form, fallback)
    kept = [e for e in (target.errors or []) if isinstance(e, str)]
    target.errors = [*kept, str(exc.message)]


def int_arg(name: str) -> int | None:
    """A positive integer query argument; anything else (text, huge numbers) is None."""
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def share_labels(bp: Blueprint, **labels: Mapping[Any, Any]) -> None:
    """Give the templates a domain's label tables (an enum's member → its lazy translation)
    as globals of the app that registers ``bp``. A context processor would copy every
    domain's tables into the context of every page, the public ones included, each time;
    a global is looked up only where a template names it, and its lazy strings are
    translated only when printed, in the page's language."""
    bp.record_once(lambda state: state.app.jinja_env.globals.update(labels))


def upload_dir(area: str) -> Storage:
    """Where the files uploaded to one domain are kept: a folder of the application's store
    (never the static folder)."""
    return storage.current().folder(f"uploads/{area}")


def _text_of_lazy(value: Any) -> Any:
    """What a template prints of a value: a lazy translation as plain text.

    Flask-Babel's lazy strings declare themselves safe HTML (``__html__``), so a message
    filled with what a user typed (``_l("Unknown school %(uai)s", uai=...)``) would reach
    the page unescaped; as plain text it is escaped like any other value."""
    return str(value) if isinstance(value, LazyString) else value


# A page's catalogue, looked up once per rendering. Flask-Babel's template callables find
# the request's catalogue again for every string (through its context, the locale and its
# cache: nine tenths of the cost of a translated word); the page is rendered in one locale.
CATALOGUE = "_catalogue"


def _catalogue(context: Context) -> Any:
    # Macros imported without the page's context have none: they look it up themselves.
    return context.get(CATALOGUE) or get_translations()


@pass_context
def _template_gettext(context: Context, message: str) -> str:
    return str(_catalogue(context).ugettext(message))


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return str(_catalogue(context).ungettext(singular, plural, n))


@pass_context
def _template_pgettext(context: Context, msgctxt: str, message: str) -> str:
    return str(_catalogue(context).upgettext(msgctxt, message))


@pass_context
def _template_npgettext(context: Context, msgctxt: str, singular: str, plural: str, n: int) -> str:
    return str(_catalogue(context).unpgettext(msgctxt, singular, plural, n))


def _request_path() -> str:
    """The page's path and query, for the forms that come back to it."""
    return request.full_path.rstrip("?")


def install(app: Flask) -> None:
    app.after_request(_security_headers)
    app.before_request(_bind_actor)
    app.teardown_request(_unbind_actor)
    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, _error)
    app.register_error_handler(500, _internal_error)
    app.register_error_handler(ConflictError, _conflict)
    app.register_error_handler(StaleDataError, _conflict)
    app.register_error_handler(DBAPIError, _database_unavailable)
    logs.configure(app)
    metrics.install(app)
    health.register(app, "database", health.database_check(lambda: db.engine))
    if app.config.get("REDIS_URL"):
        health.register(app, "redis", health.redis_check(app.config["REDIS_URL"]))
    app.jinja_env.filters.update(money=_money, number=_number, when=_when, day=_day)
    app.jinja_env.finalize = _text_of_lazy
    app.jinja_env.globals.update(
        can=lambda action: policy.allowed(current_user, Action(action)),
        Action=Action,
        current_locale=language,
        html_lang=html_lang,
        request_path=_request_path,
    )
    # Added to the Environment by the jinja2.ext.i18n extension, which its stubs do not know.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_template_gettext,
        ngettext=_template_ngettext,
        newstyle=True,
        pgettext=_template_pgettext,
        npgettext=_template_npgettext,
    )

    frames.install(app)

    @app.context_processor
    def _page_context() -> dict[str, Any]:
        return {CATALOGUE: get_translations(), **frames.page_context()}
