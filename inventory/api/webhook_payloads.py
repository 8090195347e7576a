"""The webhooks in the OpenAPI description: each event's request body (the envelope that
api.webhooks sends, and the ``data`` its service emits) as a schema, and the whole as the
document's ``x-webhooks`` (OpenAPI 3.0.3 has no ``webhooks``; 3.1 spells it so): one POST
per event, with the signature headers."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from marshmallow import Schema, fields, validate

from inventory.api.schemas import N_, Int, Text
from inventory.core import events


class TicketData(Schema):
    ticket = Int(required=True)
    ecole = Int(allow_none=True)
    asset = Int(allow_none=True)


class TicketCreatedData(TicketData):
    problem = Text(required=True, metadata={"description": N_("The problem type's name")})
    description = Text(allow_none=True)
    status = Text(required=True)


class StatusData(Schema):
    from_status = Text(required=True)
    to_status = Text(required=True)


class TicketStatusData(TicketData, StatusData):
    pass


class TicketResolvedData(TicketData):
    resolution = Text(allow_none=True)


class AssetStatusData(StatusData):
    asset = Int(required=True)
    tag = Text(required=True)
    ecole = Int(allow_none=True)


class DossierStatusData(StatusData):
    dossier = Int(required=True)
    title = Text(required=True)


class JobFinishedData(Schema):
    job = Int(required=True)
    kind = Text(required=True, metadata={"description": N_("What the job did (assets.import…)")})
    state = Text(required=True, metadata={"description": N_("done or failed")})


class LoanItemMissingData(Schema):
    loan = Int(required=True)
    asset = Int(required=True)
    tag = Text(required=True)
    ecole = Int(allow_none=True)
    kit = Int(allow_none=True, metadata={"description": N_("The kit it was lent with, if any")})


DATA = {
    events.TICKET_CREATED: ("TicketCreated", TicketCreatedData),
    events.TICKET_STATUS_CHANGED: ("TicketStatusChanged", TicketStatusData),
    events.TICKET_RESOLVED: ("TicketResolved", TicketResolvedData),
    events.ASSET_STATUS_CHANGED: ("AssetStatusChanged", AssetStatusData),
    events.DOSSIER_STATUS_CHANGED: ("DossierStatusChanged", DossierStatusData),
    events.JOB_FINISHED: ("JobFinished", JobFinishedData),
    events.LOAN_ITEM_MISSING: ("LoanItemMissing", LoanItemMissingData),
}

HEADERS = {
    "X-Socle-Event": N_("The event's name"),
    "X-Socle-Delivery": N_("The delivery's id, the same on every attempt"),
    "X-Socle-Timestamp": N_("Unix seconds of this attempt"),
    "X-Socle-Signature": N_('sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed by the secret>'),
}


def envelope(name: str, data: type[Schema]) -> type[Schema]:
    """The body of an event's delivery: the same envelope around the event's data."""
    return Schema.from_dict(
        {
            "id": fields.UUID(required=True, metadata={"description": HEADERS["X-Socle-Delivery"]}),
            "event": Text(required=True, validate=validate.OneOf([name])),
            "occurred_at": fields.DateTime(required=True),
            "collectivite_id": Int(required=True),
            "data": fields.Nested(data, required=True),
        },
        name=f"{DATA[name][0]}Delivery",
    )


def document(spec: APISpec) -> dict[str, Any]:
    """Register each event's body schema in ``spec``; the ``x-webhooks`` it names them in."""
    out: dict[str, Any] = {}
    for name, (title, data) in DATA.items():
        spec.components.schema(f"{title}Data", schema=data)
        spec.components.schema(f"{title}Delivery", schema=envelope(name, data))
        out[name] = {
            "post": {
                "summary": f"{name}: sent to each active subscription that chose it",
                "operationId": f"webhook_{name.replace('.', '_')}",
                "parameters": [
                    {
                        "in": "header",
                        "name": header,
                        "required": True,
                        "description": text,
                        "schema": {"type": "string"},
                    }
                    for header, text in HEADERS.items()
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{title}Delivery"}
                        }
                    },
                },
                "responses": {"2XX": {"description": N_("Delivered; any other answer is retried")}},
            }
        }
    return out
