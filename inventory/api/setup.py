"""The API's one flask-smorest Api: it gathers the endpoints' blueprints (v1's registry and
equipment, records' tickets, grants, training, figures and history) and serves their
OpenAPI description. The endpoint modules are imported here for the routes they add."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from inventory.api import (  # noqa: F401  (imported for their routes)
    claims,
    disposals,
    dossiers,
    equipment,
    figures,
    funding,
    grants,
    history,
    labels,
    loans,
    network,
    records,
    suppliers,
    tickets,
    training,
    v1,
    webhook_payloads,
    works,
)


class SocleApi(Api):
    """flask-smorest's Api without its app-wide JSON error handler: the pages keep theirs,
    and the API blueprint answers its errors as problem details (api.auth)."""

    DEFAULT_ERROR_RESPONSE_NAME = None  # each operation lists its problem answers

    def _register_error_handlers(self) -> None:
        pass


api = SocleApi()


def init_app(app: Flask) -> None:
    app.config.setdefault("API_TITLE", "Socle API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    api.init_app(
        app,
        spec_kwargs={
            "info": {"description": "Bearer tokens: see the page Mes jetons d'API."},
            "security": [{"bearer": []}],
        },
    )
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    # The webhooks' requests, each event's body a schema (OpenAPI 3.0.3: an extension).
    api.spec.options["x-webhooks"] = webhook_payloads.document(api.spec)
    api.register_blueprint(v1.blp)
    api.register_blueprint(records.blp)
    app.extensions["socle_api_spec"] = api.spec
