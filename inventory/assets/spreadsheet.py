"""The equipment spreadsheet: its documented column set (one for the template, the
importer and the exports, so that an export imported again changes nothing), the
equipment list's export rows and the template's help sheet."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.assets import catalogue, lifecycle, lists
from inventory.core.exporting import Cell, money
from inventory.core.importing import (
    Column,
)
from inventory.core.policy import Subject
from inventory.orgs.models import Commune

# -- the column set ------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One documented column: its key, its French header, the other spellings accepted."""

    key: str
    header: str
    aliases: tuple[str, ...]
    help: Any
    example: str
    width: int = 14

    def column(self) -> Column:
        return Column(self.key, (self.header, *self.aliases))


FIELDS: tuple[Field, ...] = (
    Field(
        "numero_inventaire",
        "N° d'inventaire",
        ("numero_d_inventaire", "n_inventaire", "inventaire", "asset_tag", "tag", "etiquette"),
        _l(
            "Asset tag. Leave it empty for a new item: Socle numbers it. "
            "Given, it identifies the item to update."
        ),
        "",
        18,
    ),
    Field(
        "uai",
        "UAI",
        ("code_uai", "numero_uai", "school_uai"),
        _l(
            "UAI of the school. Empty, with the classroom empty too: the item goes to the "
            "storage of the collectivité."
        ),
        "0941234F",
        11,
    ),
    Field(
        "classe",
        "Classe",
        ("classroom", "salle"),
        _l("Name of the classroom in that school. Empty: shared by the whole school."),
        "Classe 1",
    ),
    Field(
        "categorie",
        "Catégorie",
        ("category",),
        _l("Category code or name (see the list below); required for a model not yet known."),
        "tni",
    ),
    Field(
        "fabricant",
        "Fabricant",
        ("manufacturer", "marque", "brand"),
        _l("Manufacturer; required for a new item."),
        "Speechi",
    ),
    Field(
        "modele",
        "Modèle",
        ("model",),
        _l("Model name; required for a new item. A new model is added to the catalogue."),
        "SpeechiTouch 75",
        18,
    ),
    Field(
        "numero_serie",
        "N° de série",
        ("numero_de_serie", "n_serie", "serial", "serial_number"),
        _l(
            "Serial number. Without an asset tag, the model and the serial number identify "
            "the item to update."
        ),
        "ST75-2024-0001",
        18,
    ),
    Field(
        "statut",
        "Statut",
        ("status",),
        _l(
            "Status code or French label (see the list below); a new item is delivered by "
            "default. A change must follow the lifecycle."
        ),
        "in_service",
    ),
    Field("fournisseur", "Fournisseur", ("supplier",), _l("Supplier."), "UGAP", 16),
    Field(
        "numero_commande",
        "N° de commande",
        ("numero_de_commande", "order_number", "bon_de_commande"),
        _l("Order number."),
        "BC-2024-118",
        16,
    ),
    Field(
        "numero_facture",
        "N° de facture",
        ("numero_de_facture", "invoice_number"),
        _l("Invoice number."),
        "F-2024-0412",
        16,
    ),
    Field(
        "date_achat",
        "Date d'achat",
        ("date_d_achat", "purchase_date"),
        _l("Purchase date, YYYY-MM-DD or DD/MM/YYYY."),
        "2024-09-02",
        12,
    ),
    Field(
        "prix_ht",
        "Prix HT",
        ("price_ht", "price_excl_vat", "montant_ht"),
        _l("Price without VAT, in euros: 2490.00 or 2 490,00."),
        "2490.00",
        12,
    ),
    Field(
        "prix_ttc",
        "Prix TTC",
        ("price_ttc", "price_incl_vat", "montant_ttc"),
        _l("Price including VAT, in euros; not lower than the price without VAT."),
        "2988.00",
        12,
    ),
    Field(
        "fin_garantie",
        "Fin de garantie",
        ("fin_de_garantie", "warranty_end"),
        _l("End of the warranty, YYYY-MM-DD or DD/MM/YYYY; not before the purchase."),
        "2029-09-01",
        12,
    ),
    Field(
        "mac",
        "MAC",
        ("adresse_mac", "mac_address"),
        _l("Wired MAC address, in any usual notation."),
        "00:1a:2b:3c:4d:5e",
        18,
    ),
    Field(
        "mac_wifi",
        "MAC Wi-Fi",
        ("adresse_mac_wifi", "wifi_mac"),
        _l("Wifi MAC address."),
        "",
        18,
    ),
    Field("ip", "IP", ("adresse_ip", "ip_address"), _l("IPv4 or IPv6 address."), "10.94.12.34", 16),
    Field(
        "notes",
        "Notes",
        ("note", "remarques", "commentaire"),
        _l("Free notes."),
        "Fixé au mur, côté fenêtre",
        30,
    ),
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}
COLUMNS = tuple(f.column() for f in FIELDS)
HEADERS = tuple(f.header for f in FIELDS)
# Read-only columns of the exports, after the import columns; the importer ignores them.
EXTRA_HEADERS = ("Collectivité", "Commune", "École", "Statut depuis")
WIDTHS = (*(f.width for f in FIELDS), 20, 18, 30, 12)


# -- exports -------------------------------------------------------------------------------
def export_headers() -> list[str]:
    return [*HEADERS, *EXTRA_HEADERS]


def _amount(cents: int | None) -> Decimal | None:
    return money(cents)


def export_rows(
    session: Session, user: Subject, filters: lists.AssetFilters, *, tz: Any = None
) -> Iterator[list[Cell]]:
    """The rows of every item ``user`` may see that match ``filters``, in the import columns
    (then the read-only ones). Lazy: the query runs when the first row is asked for."""
    communes: dict[int, str] = dict(session.execute(select(Commune.id, Commune.name)).all())
    result = lists.all_assets(session, user, filters)
    try:
        for a in result:
            ecole, room, model = a.ecole, a.classroom, a.model
            since = a.status_since.astimezone(tz) if tz is not None else a.status_since
            yield [
                a.tag,
                ecole.uai if ecole else "",
                room.name if room else "",
                a.category.code,
                model.manufacturer.name,
                model.name,
                a.serial,
                a.status.value,
                a.supplier,
                a.order_number,
                a.invoice_number,
                a.purchase_date,
                _amount(a.price_ht_cents),
                _amount(a.price_ttc_cents),
                a.warranty_end,
                a.mac,
                a.mac_wifi,
                a.ip,
                a.notes,
                a.collectivite.name,
                communes.get(ecole.commune_id, "") if ecole else "",
                ecole.name if ecole else "",
                since.date(),
            ]
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


# -- the template --------------------------------------------------------------------------
def template_example() -> list[str]:
    return [f.example for f in FIELDS]


def help_rows(session: Session) -> list[list[Cell]]:
    """The 'Aide' sheet of the template: each column, then the category and status codes."""
    rows: list[list[Cell]] = [
        [f.header, ", ".join((f.key, *f.aliases)), str(f.help)] for f in FIELDS
    ]
    rows.append([])
    rows.append([str(_l("Categories")), str(_l("Code")), str(_l("Name"))])
    for c in catalogue.categories(session):
        rows.append(["", c.code, f"{c.name_fr} / {c.name_en}"])
    rows.append([])
    rows.append([str(_l("Statuses")), str(_l("Code")), str(_l("Name"))])
    for status, label in lifecycle.STATUS_LABELS.items():
        rows.append(["", status.value, str(label)])
    return rows


def help_headers() -> Sequence[str]:
    return (str(_l("Column")), str(_l("Also accepted")), str(_l("What to write")))
