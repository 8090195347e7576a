"""The API's description: the OpenAPI document, and a page of the app's own that lists
its operations, parameters and schemas (no CDN, no script)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from inventory.api import webhooks
from inventory.core import events
from inventory.extensions import limiter
from inventory.web import allow

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

# The operations' summaries in the page's language (the document itself is in English).
SUMMARIES = {
    "get/schools": _l(
        "The schools you may see, newest record first, with the school list's filters; "
        "cursor pages: pass each page's next_cursor as cursor until it is null."
    ),
    "get/schools/{ecole_id}": _l("One school."),
    "get/schools/{ecole_id}/classrooms": _l("The classrooms of a school, in their order."),
    "get/assets": _l(
        "The equipment you may see, newest first, with the equipment list's filters; "
        "cursor pages: pass each page's next_cursor as cursor until it is null."
    ),
    "get/assets/{asset_id}": _l("One item; its ETag is its version."),
    "patch/assets/{asset_id}": _l(
        "Change an item's fields, as its edit page does. Send the version read, in the "
        "body (version: 409 when stale) or as If-Match (412 when stale)."
    ),
}
METHODS = ("get", "post", "put", "patch", "delete")


def summaries(texts: dict[str, Any]) -> None:
    """Declare the translated summaries of a module's operations (``"post/assets"``)."""
    SUMMARIES.update(texts)


def spec() -> dict[str, Any]:
    return current_app.extensions["socle_api_spec"].to_dict()


@bp.get("/openapi.json")
@allow(None)
@limiter.exempt
def openapi() -> Response:
    """The OpenAPI 3 description (public: it describes, it holds no data)."""
    return jsonify(spec())


def _schema_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref", "")
    name = ref.rsplit("/", 1)[-1] if ref else schema.get("type", "")
    return f"[{name}]" if schema.get("type") == "array" else name


def _said(text: str | None) -> str:
    """A description of the document in the page's language (the texts are marked with
    ``schemas.N_`` for the catalogue; one not in it shows as written)."""
    return gettext(text) if text else ""


@bp.get("/docs")
@allow(None)
def page() -> str:
    document = spec()
    operations = []
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            responses = []
            for code, answer in sorted(op.get("responses", {}).items()):
                content: dict[str, Any] = answer.get("content", {})
                first: dict[str, Any] = next(iter(content.values()), {})
                schema = first.get("schema", {})
                responses.append((code, _said(answer.get("description")), _schema_name(schema)))
            operations.append(
                {
                    "method": method.upper(),
                    "path": "/api/v1" + path if not path.startswith("/api/") else path,
                    "summary": SUMMARIES.get(method + path.removeprefix("/api/v1"))
                    or op.get("summary", ""),
                    "parameters": [
                        {**p, "description": _said(p.get("description"))}
                        for p in [*shared, *op.get("parameters", [])]
                    ],
                    "body": _schema_name(body.get("schema", {})) if body else "",
                    "responses": responses,
                }
            )
    schemas = {
        name: {
            **schema,
            "description": _said(schema.get("description")),
            "properties": {
                field: {**prop, "description": _said(prop.get("description"))}
                for field, prop in (schema.get("properties") or {}).items()
            },
        }
        for name, schema in document.get("components", {}).get("schemas", {}).items()
    }
    return render_template(
        "api/docs.html",
        operations=operations,
        schemas=schemas,
        info=document.get("info", {}),
        events=[(name, webhooks.EVENT_LABELS[name]) for name in events.NAMES],
        example=webhooks.worked_example(),
    )
