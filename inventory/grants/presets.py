"""Funding schemes shipped as data. Amounts in cents, rates as decimal strings, dates as ISO
days. A scheme's dates are part of its rules (``spending_from``, ``spending_to``,
``claim_deadline``), so that a dossier freezes them with the rest."""

from __future__ import annotations

from typing import Any

EU_MENTION = "Financé par l'Union européenne – NextGenerationEU"

SNEE_2021: dict[str, Any] = {
    "code": "snee-2021",
    "name": "AAP Socle numérique dans les écoles élémentaires (2021)",
    "funding_mention": EU_MENTION,
    # Recovery-plan money from the EU: its labels show the emblem and "France Relance".
    "label_emblem": True,
    "label_france_relance": True,
    "note": (
        "Candidatures du 14 janvier au 31 mars 2021. Taux et plafonds par défaut couramment "
        "rapportés, non confirmés par le cahier des charges ; dépenses éligibles du 14 janvier "
        "2021 au 31 décembre 2022 et demandes de versement jusqu'au 30 juin 2023 : dates "
        "configurables, non confirmées. Vérifiez-les avec votre convention."
    ),
    # The socle référentiel the programme sets (inventory.assets.referentiels.PRESETS).
    "referentiel": "snee-2021",
    "rules": {
        "vat_included": True,
        # Spending from the call's opening to the end of 2022; the claim deadline leaves six
        # months after the last eligible invoice to gather the proofs and send the claim.
        "spending_from": "2021-01-14",
        "spending_to": "2022-12-31",
        "claim_deadline": "2023-06-30",
        "volets": [
            {
                "code": "equipement",
                "label": "Équipement (matériel et travaux de réseau)",
                "tiers": [
                    {"rate": "0.70", "up_to_cents": 20_000_000},
                    {"rate": "0.50", "up_to_cents": None},
                ],
                "spending_cap": {"basis": "class", "amount_cents": 350_000},
                "min_per_school_cents": 350_000,
                "eligible_categories": [
                    "tni",
                    "vpi",
                    "eni",
                    "vp",
                    "visualiseur",
                    "poste_enseignant",
                    "poste_direction",
                    "tablette",
                    "pc_eleve",
                    "classe_mobile",
                    "borne_wifi",
                    "commutateur",
                    "copieur",
                    "captation",
                    "works",
                ],
            },
            {
                "code": "services",
                "label": "Services et ressources numériques",
                "tiers": [{"rate": "0.50", "up_to_cents": None}],
                "aid_cap": {"basis": "pupil", "amount_cents": 2_000, "years": 1},
            },
            {
                "code": "accompagnement",
                "label": "Accompagnement",
                "tiers": [{"rate": "0.50", "up_to_cents": None}],
            },
        ],
    },
}

LABEL_ECOLES_NUMERIQUES_2020: dict[str, Any] = {
    "code": "label-ecoles-numeriques-2020",
    "name": "Label écoles numériques 2020",
    "funding_mention": "Financé par l'État – Label écoles numériques 2020",
    "note": (
        "50 % des dépenses comprises entre 3 000 € et 14 000 € par école. Dépenses éligibles "
        "du 1er janvier 2020 au 31 décembre 2021 : dates configurables, non confirmées."
    ),
    "rules": {
        "vat_included": True,
        "spending_from": "2020-01-01",
        "spending_to": "2021-12-31",
        "volets": [
            {
                "code": "equipement",
                "label": "Équipement",
                "tiers": [{"rate": "0.50", "up_to_cents": None}],
                "spending_cap": {"basis": "school", "amount_cents": 1_400_000},
                "min_per_school_cents": 300_000,
            }
        ],
    },
}

PRESETS = (SNEE_2021, LABEL_ECOLES_NUMERIQUES_2020)
