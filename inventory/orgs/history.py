"""How the registry's records read in the history and the journal."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from inventory.core.describe import Field, describe
from inventory.orgs.forms import KIND_LABELS, NATURE_LABELS
from inventory.orgs.models import (
    Academie,
    Circonscription,
    Classroom,
    Collectivite,
    Commune,
    Departement,
    Ecole,
    Ownership,
)

_NAME = _l("Name")
_CODE = _l("Code")


def init_app(_app: Flask) -> None:
    describe(
        Academie,
        _l("Académie"),
        {
            "code": _CODE,
            "name": _NAME,
            "region_code": _l("Region code"),
            "region_name": _l("Region"),
        },
    )
    describe(
        Departement,
        _l("Département"),
        {"code": _CODE, "name": _NAME, "academie_id": _l("Académie")},
    )
    describe(
        Circonscription,
        _l("Circonscription"),
        {"uai": _l("UAI"), "name": _NAME, "departement_id": _l("Département")},
    )
    describe(
        Commune,
        _l("Commune"),
        {"insee": _l("INSEE code"), "name": _NAME, "departement_id": _l("Département")},
    )
    describe(
        Collectivite,
        _l("Collectivité"),
        {
            "kind": Field(_l("Kind"), labels=KIND_LABELS),
            "name": _NAME,
            "siren": _l("SIREN"),
            "commune_id": _l("Commune"),
            "departement_id": _l("Département"),
            "asset_tag_prefix": _l("Asset tag prefix"),
            "provisional": _l("Provisional"),
            "label_mention": _l("Default funding mention on the labels"),
            "label_prompt": _l("Scan prompt on the labels"),
        },
    )
    describe(
        Ecole,
        _l("School"),
        {
            "uai": _l("UAI"),
            "name": _NAME,
            "nature": Field(_l("Nature"), labels=NATURE_LABELS),
            "status": _l("Status"),
            "is_private": _l("Private school"),
            "address": _l("Address"),
            "postal_code": _l("Postal code"),
            "commune_id": _l("Commune"),
            "departement_id": _l("Département"),
            "circonscription_id": _l("Circonscription"),
            "collectivite_id": _l("Collectivité"),
            "latitude": _l("Latitude"),
            "longitude": _l("Longitude"),
            "pupils": _l("Pupils"),
            "priority_education": _l("Priority education"),
            "email": _l("Email"),
            "phone": _l("Phone"),
        },
    )
    describe(
        Ownership,
        _l("School ownership"),
        {
            "ecole_id": _l("School"),
            "collectivite_id": _l("Collectivité"),
            "since": _l("Since"),
            "until": _l("Until"),
        },
    )
    describe(
        Classroom,
        _l("Classroom"),
        {
            "ecole_id": _l("School"),
            "name": _NAME,
            "position": _l("Position"),
            "levels": _l("Levels"),
            "pupils": _l("Pupils"),
            "estimated": _l("Estimated pupils"),
            "created_at": _l("Created on"),
        },
    )
