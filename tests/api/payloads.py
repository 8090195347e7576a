"""What a receiver may rely on: a delivery's body is the one the OpenAPI description's
x-webhooks declares for its event (every field of its data declared, none missing)."""

from __future__ import annotations

import json
from typing import Any

from openapi_schema_validator import OAS30Validator


def conforms(spec: dict[str, Any], body: bytes) -> dict[str, Any]:
    """Check a delivery's body against the document; the payload."""
    payload = json.loads(body)
    operation = spec["x-webhooks"][payload["event"]]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schemas = spec["components"]["schemas"]
    delivery = schemas[ref.rsplit("/", 1)[-1]]
    OAS30Validator({**delivery, "components": spec["components"]}).validate(payload)
    data = schemas[delivery["properties"]["data"]["$ref"].rsplit("/", 1)[-1]]
    assert set(payload["data"]) == set(data["properties"]), payload["data"]
    assert set(data.get("required", [])) <= set(payload["data"])
    return payload
