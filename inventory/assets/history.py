"""How equipment, works, digital services and the socle read in the history and the
journal, declared at start-up (the change log may not import this domain)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from inventory.assets.digital import SERVICE_KIND_LABELS
from inventory.assets.disposal import ROUTE_LABELS
from inventory.assets.lifecycle import PLACEMENT_LABELS, STATUS_LABELS
from inventory.assets.models import (
    Asset,
    AssetPhoto,
    DigitalService,
    DigitalServiceSchool,
    Disposal,
    EquipmentCategory,
    EquipmentModel,
    Manufacturer,
    NetworkWork,
    Referentiel,
    SocleRequirement,
)
from inventory.assets.referentiels import KIND_LABELS, LEVEL_LABELS
from inventory.assets.works import WORK_KIND_LABELS, WORK_STATUS_LABELS
from inventory.core.describe import Field, describe

_NAME = _l("Name")
_NOTES = _l("Notes")
_EOL = _l("Expected end of life")


def _in_language(fr: str, en: str) -> str:
    return fr if str(get_locale()).startswith("fr") else en


def _category_name(category: Any) -> str:
    return _in_language(category.name_fr, category.name_en)


def _requirement_name(req: Any) -> str:
    return _in_language(req.label_fr, req.label_en)


def init_app(_app: Flask) -> None:
    describe(
        EquipmentCategory,
        _l("Equipment category"),
        {"code": _l("Code"), "name_fr": _l("Name (French)"), "name_en": _l("Name (English)")},
        show=_category_name,
        journal=False,
    )
    describe(Manufacturer, _l("Manufacturer"), {"name": _NAME})
    describe(
        EquipmentModel,
        _l("Equipment model"),
        {
            "manufacturer_id": _l("Manufacturer"),
            "category_id": _l("Category"),
            "name": _NAME,
            "capabilities": _l("Capabilities"),
            "end_of_life": _EOL,
        },
    )
    describe(
        Asset,
        _l("Equipment item"),
        {
            "tag": _l("Asset tag"),
            "model_id": _l("Model"),
            "category_id": _l("Category"),
            "serial": _l("Serial number"),
            "collectivite_id": _l("Collectivité"),
            "ecole_id": _l("School"),
            "classroom_id": _l("Classroom"),
            "placement": Field(_l("Placement"), labels=PLACEMENT_LABELS),
            "status": Field(_l("Status"), labels=STATUS_LABELS),
            "status_since": _l("Status since"),
            "supplier": _l("Supplier"),
            "supplier_id": _l("Supplier (directory)"),
            "order_number": _l("Order number"),
            "invoice_number": _l("Invoice number"),
            "purchase_date": _l("Purchase date"),
            "price_ht_cents": _l("Price excl. VAT"),
            "price_ttc_cents": _l("Price incl. VAT"),
            "warranty_end": _l("End of warranty"),
            "end_of_life": _EOL,
            "disposal_id": _l("Disposal"),
            "mac": _l("MAC address"),
            "mac_wifi": _l("Wi-Fi MAC address"),
            "ip": _l("IP address"),
            "notes": _NOTES,
            "created_at": _l("Created on"),
        },
    )
    describe(
        Disposal,
        _l("Disposal"),
        {
            "collectivite_id": _l("Collectivité"),
            "route": Field(_l("Disposal route"), labels=ROUTE_LABELS),
            "disposed_on": _l("Disposal date"),
            "organism": _l("Eco-organism or recipient"),
            "organism_reference": _l("Eco-organism's reference"),
            "note": _NOTES,
            "certificate_name": _l("Certificate"),
            "certificate_type": _l("File type"),
            "certificate_size": _l("Size (bytes)"),
            "created_at": _l("Created on"),
        },
    )
    describe(
        AssetPhoto,
        _l("Equipment photo"),
        {
            "asset_id": _l("Equipment item"),
            "stored_name": _l("File"),
            "content_type": _l("File type"),
            "size": _l("Size (bytes)"),
            "uploaded_at": _l("Uploaded on"),
        },
    )
    describe(
        NetworkWork,
        _l("Network work"),
        {
            "collectivite_id": _l("Collectivité"),
            "ecole_id": _l("School"),
            "kind": Field(_l("Kind of work"), labels=WORK_KIND_LABELS),
            "title": _l("Title"),
            "contractor": _l("Contractor"),
            "quote_cents": _l("Quote"),
            "invoice_cents": _l("Invoiced"),
            "planned_start": _l("Planned start"),
            "planned_end": _l("Planned end"),
            "actual_start": _l("Actual start"),
            "actual_end": _l("Actual end"),
            "status": Field(_l("Status"), labels=WORK_STATUS_LABELS),
            "accepted_on": _l("Accepted on"),
            "notes": _NOTES,
            "classrooms": _l("Classrooms"),
        },
    )
    describe(
        DigitalService,
        _l("Digital service"),
        {
            "collectivite_id": _l("Collectivité"),
            "kind": Field(_l("Kind"), labels=SERVICE_KIND_LABELS),
            "name": _NAME,
            "provider": _l("Provider"),
            "starts_on": _l("Starts on"),
            "ends_on": _l("Ends on"),
            "notes": _NOTES,
            "created_at": _l("Created on"),
        },
    )
    describe(
        DigitalServiceSchool,
        _l("School covered by a digital service"),
        {"service_id": _l("Digital service"), "ecole_id": _l("School")},
    )
    describe(
        Referentiel,
        _l("Socle referential"),
        {
            "code": _l("Code"),
            "name": _NAME,
            "note": _NOTES,
            "is_current": _l("Current"),
            "created_at": _l("Created on"),
        },
    )
    describe(
        SocleRequirement,
        _l("Socle requirement"),
        {
            "referentiel_id": _l("Referential"),
            "code": _l("Code"),
            "level": Field(_l("Level"), labels=LEVEL_LABELS),
            "kind": Field(_l("Kind"), labels=KIND_LABELS),
            "label_fr": _l("Label (French)"),
            "label_en": _l("Label (English)"),
            "minimum": _l("Minimum"),
            "active": _l("Active"),
            "position": _l("Position"),
        },
        show=_requirement_name,
    )
