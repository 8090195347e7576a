"""Equipment spreadsheets: the documented column set, its importer and the export rows.

One column set serves the template, the importer and the exports, so that an export
imported again changes nothing. The importer runs on the shared framework
(:mod:`inventory.core.importing`): lookups are loaded once in :meth:`AssetImporter.prepare`,
every row is validated in full before anything is written, and created items are plain
ORM objects flushed with the batch (the change log hook records them in the same flush).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, insert, select, update
from sqlalchemy.orm import Session

from inventory.assets import services
from inventory.assets.models import (
    TRANSITIONS,
    Asset,
    AssetStatus,
    EquipmentCategory,
    EquipmentModel,
    Manufacturer,
    Placement,
    StatusChange,
    TagCounter,
)
from inventory.assets.network import AddressError, normalize_ip, normalize_mac
from inventory.core import audit, policy
from inventory.core.db import utcnow
from inventory.core.exporting import Cell, restore
from inventory.core.importing import (
    Column,
    Importer,
    ImportFileError,
    ImportReport,
    Outcome,
    Row,
    RowRejected,
    Table,
    run_import,
)
from inventory.core.money import AmountError, parse_amount
from inventory.core.policy import Action, Subject
from inventory.core.text import fold, slug_key
from inventory.orgs import identifiers as ids
from inventory.orgs.models import Classroom, Collectivite, Commune, Ecole

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

# Text columns: key → (Asset attribute, longest value the database takes).
TEXT_FIELDS = {
    "fournisseur": ("supplier", 150),
    "numero_commande": ("order_number", 60),
    "numero_facture": ("invoice_number", 60),
}
DATE_FIELDS = {"date_achat": "purchase_date", "fin_garantie": "warranty_end"}
AMOUNT_FIELDS = {"prix_ht": "price_ht_cents", "prix_ttc": "price_ttc_cents"}
ADDRESS_FIELDS = {"mac": "mac", "mac_wifi": "mac_wifi"}
MAX_CENTS = 2**31 - 1
_TAG = re.compile(r"[A-Z0-9][A-Z0-9._/-]{1,39}")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?)?")
_FR_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_CHUNK = 500


def _chunks(values: Iterable[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for v in values:
        batch.append(v)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _words(value: str) -> str:
    return " ".join(value.split())


@lru_cache(maxsize=65536)
def _key(value: str) -> str:
    """Lookup key of a name: case, accents and spacing ignored (memoised: files repeat)."""
    return fold(" ".join(value.split()))


def _shown(value: str) -> str:
    return value if len(value) <= 60 else value[:57] + "…"


def _reject(key: str, reason: Any) -> RowRejected:
    return RowRejected(
        _l("Column «%(column)s»: %(reason)s", column=FIELD_BY_KEY[key].header, reason=reason),
        column=key,
    )


def _parse_date(key: str, raw: str) -> date | None:
    if not raw:
        return None
    try:
        if m := _ISO_DATE.fullmatch(raw):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _FR_DATE.fullmatch(raw):
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        pass
    raise _reject(
        key, _l("«%(value)s» is not a date (YYYY-MM-DD or DD/MM/YYYY).", value=_shown(raw))
    )


def _parse_amount(key: str, raw: str) -> int | None:
    try:
        cents = parse_amount(raw)
    except AmountError:
        cents = -1
    if cents is not None and not 0 <= cents <= MAX_CENTS:
        raise _reject(key, _l("«%(value)s» is not an amount in euros.", value=_shown(raw)))
    return cents


# -- the importer --------------------------------------------------------------------------
ModelKey = tuple[str, str]


@dataclass(frozen=True)
class _Place:
    collectivite_id: int
    ecole_id: int | None
    classroom_id: int | None
    placement: Placement


class AssetImporter(Importer):
    """Equipment rows: created, updated (placement, fields, status through the lifecycle)
    or left unchanged, identified by asset tag, else by (model, serial number)."""

    columns = COLUMNS

    def __init__(
        self, session: Session, user: Subject, collectivite: Collectivite | int | None = None
    ) -> None:
        self.session = session
        self.user = user
        self.collectivite_id = (
            collectivite.id if isinstance(collectivite, Collectivite) else collectivite
        )
        self.line = 0

    # -- lookups, loaded once --------------------------------------------------------------
    def prepare(self, table: Table, report: ImportReport) -> Iterable[tuple[int, Row]]:
        present = {
            c.name for c in COLUMNS if any(slug_key(h) in c.spellings() for h in table.header)
        }
        if "numero_inventaire" not in present and not {"fabricant", "modele"} <= present:
            missing = [k for k in ("numero_inventaire", "fabricant", "modele") if k not in present]
            raise ImportFileError(_l("Missing columns: %(columns)s.", columns=", ".join(missing)))
        s, user = self.session, self.user
        self.editing = policy.allowed(user, Action.EDIT)
        self.actor = audit.current_actor()
        self._load_catalogue()
        self.statuses = _status_keys()

        rows = table.rows
        uais = {ids.normalize_uai(r.get("uai", "")) for _, r in rows} - {""}
        self.file_tags = {
            r["numero_inventaire"].upper() for _, r in rows if r.get("numero_inventaire")
        }
        serials = {r["numero_serie"].upper() for _, r in rows if r.get("numero_serie")}

        # Schools the user may edit, by UAI; any other UAI is answered as unknown.
        self.ecoles: dict[str, tuple[int, int | None]] = {}
        if self.editing:
            for chunk in _chunks(uais):
                stmt = select(Ecole.id, Ecole.uai, Ecole.collectivite_id).where(
                    Ecole.uai.in_(chunk)
                )
                for ecole_id, uai, coll_id in s.execute(policy.visible(user, stmt, Ecole)):
                    self.ecoles[uai] = (ecole_id, coll_id)
        self.rooms: dict[tuple[int, str], int] = {}
        for chunk in _chunks({e for e, _ in self.ecoles.values()}):
            stmt = select(Classroom.id, Classroom.ecole_id, Classroom.name).where(
                Classroom.ecole_id.in_(chunk)
            )
            for room_id, ecole_id, name in s.execute(stmt.order_by(Classroom.id)):
                self.rooms.setdefault((ecole_id, fold(_words(name))), room_id)
        self._where_cache: dict[tuple[str, str], _Place] = {}

        self.storage_id = self._storage_collectivite(report)

        # Existing items named by the file: by tag, and by serial number (any model).
        found: dict[int, Asset] = {}
        for column, values in ((Asset.tag, self.file_tags), (Asset.serial, serials)):
            for chunk in _chunks(values):
                for asset in s.scalars(select(Asset).where(column.in_(chunk))):
                    found[asset.id] = asset
        editable: set[int] = set()
        if self.editing:
            for chunk in _chunks(found):
                stmt = select(Asset.id).where(Asset.id.in_(chunk))
                editable.update(s.scalars(policy.visible(user, stmt, Asset)))
        self.mine = {id(a) for a in found.values() if a.id in editable}
        self.by_tag = {a.tag: a for a in found.values()}
        self.by_serial: dict[tuple[ModelKey, str], Asset] = {
            (self.model_keys[a.model_id], a.serial): a for a in found.values() if a.serial
        }

        coll_ids = {c for _, c in self.ecoles.values() if c}
        coll_ids.update(a.collectivite_id for a in found.values())
        if self.storage_id:
            coll_ids.add(self.storage_id)
        self.collectivites = {
            c.id: c
            for chunk in _chunks(coll_ids)
            for c in s.scalars(select(Collectivite).where(Collectivite.id.in_(chunk)))
        }

        self.seen_tags: dict[str, int] = {}
        self.seen_serials: dict[tuple[ModelKey, str], int] = {}
        self.untagged: list[tuple[Asset, int, int]] = []
        self.created: list[Asset] = []
        self.steps: list[tuple[Asset, AssetStatus | None, AssetStatus, Any]] = []
        self.new_models: list[tuple[ModelKey, EquipmentModel]] = []
        return self._numbered(rows)

    def _numbered(self, rows: list[tuple[int, Row]]) -> Iterator[tuple[int, Row]]:
        for line, row in rows:
            self.line = line
            yield line, row

    def _load_catalogue(self) -> None:
        s = self.session
        self.categories = {c.id: c for c in s.scalars(select(EquipmentCategory))}
        self.category_keys: dict[str, EquipmentCategory] = {}
        for c in sorted(self.categories.values(), key=lambda c: c.position):
            for name in (c.code, c.name_fr, c.name_en):
                for key in (fold(_words(name)), slug_key(name)):
                    self.category_keys.setdefault(key, c)
        makers = list(s.scalars(select(Manufacturer).order_by(Manufacturer.id)))
        self.makers: dict[str, Manufacturer] = {}
        for m in makers:
            self.makers.setdefault(fold(_words(m.name)), m)
        maker_names = {m.id: m.name for m in makers}
        self.models: dict[ModelKey, EquipmentModel] = {}
        self.models_by_id: dict[int, EquipmentModel] = {}
        self.model_keys: dict[int, ModelKey] = {}
        for model in s.scalars(select(EquipmentModel).order_by(EquipmentModel.id)):
            key = (fold(_words(maker_names[model.manufacturer_id])), fold(_words(model.name)))
            self.models.setdefault(key, model)
            self.models_by_id[model.id] = model
            self.model_keys[model.id] = key

    def _storage_collectivite(self, report: ImportReport) -> int | None:
        """The collectivité whose storage receives new items without a school."""
        if not self.editing:
            return None
        stmt = select(Collectivite.id, Collectivite.name)
        if self.collectivite_id is not None:
            stmt = stmt.where(Collectivite.id == self.collectivite_id)
        elif self.user.scope.everything:
            return None
        found = self.session.execute(policy.visible(self.user, stmt, Collectivite).limit(2)).all()
        if self.collectivite_id is not None and not found:
            raise ImportFileError(_l("Unknown collectivité."))
        if len(found) != 1:
            return None  # several: the user must choose
        report.notes.append(
            str(_l("Items without a school go to the storage of %(name)s.", name=found[0].name))
        )
        return found[0].id

    def key_of(self, row: Row) -> str:
        return row.get("numero_inventaire") or row.get("numero_serie") or row.get("uai", "")

    # -- one row ---------------------------------------------------------------------------
    def import_row(self, row: Row) -> Outcome:
        for k, v in row.items():
            if v[:1] == "'":
                row[k] = restore(v)
        values = self._values(row)
        tag = self._tag(row)
        asset = self.by_tag.get(tag) if tag else None
        if asset is not None and id(asset) not in self.mine:
            raise _reject("numero_inventaire", _l("The tag %(tag)s is already used.", tag=tag))
        model_key, model, new_model = self._model(row, asset)
        serial = values.get("serial", asset.serial if asset else None)
        serial_key = (model_key, serial) if serial else None
        if serial_key is not None:
            if (first := self.seen_serials.get(serial_key)) is not None:
                raise _reject(
                    "numero_serie",
                    _l(
                        "Serial %(serial)s of this model is already on line %(line)s.",
                        serial=serial,
                        line=first,
                    ),
                )
            holder = self.by_serial.get(serial_key)
            if holder is not None and asset is None and not tag:
                asset = holder  # the item named by its model and serial number
            if holder is not None and holder is not asset:
                if id(holder) in self.mine:
                    reason = _l(
                        "Serial %(serial)s of this model is already %(tag)s.",
                        serial=serial,
                        tag=holder.tag,
                    )
                else:
                    reason = _l("Serial %(serial)s of this model is already used.", serial=serial)
                raise _reject("numero_serie", reason)
            if asset is not None and id(asset) not in self.mine:
                raise _reject(
                    "numero_serie",
                    _l("Serial %(serial)s of this model is already used.", serial=serial),
                )
        if asset is not None and asset.tag in self.seen_tags:
            raise _reject(
                "numero_inventaire",
                _l(
                    "The item %(tag)s is already on line %(line)s.",
                    tag=asset.tag,
                    line=self.seen_tags[asset.tag],
                ),
            )
        place = self._where(row, asset)
        status = self._status(row, asset)
        self._check_consistency(values, asset)

        # The row is valid: nothing has been written before this point.
        if new_model is not None:
            model = self._new_model(model_key, *new_model)
        assert model is not None
        if tag:
            self.seen_tags[tag] = self.line
        if serial_key is not None:
            self.seen_serials[serial_key] = self.line
        if asset is None:
            self._create(tag, model, serial_key, place, status, values)
            return Outcome.CREATED
        self.seen_tags[asset.tag] = self.line
        return self._update(asset, model, model_key, serial_key, place, status, values)

    def _values(self, row: Row) -> dict[str, Any]:
        """The item's plain fields given by the row (absent columns are left out)."""
        out: dict[str, Any] = {}
        if "numero_serie" in row:
            serial = row["numero_serie"].upper()
            if len(serial) > 100:
                raise _reject("numero_serie", _too_long(serial, 100))
            out["serial"] = serial or None
        for key, (attr, limit) in TEXT_FIELDS.items():
            if key in row:
                if len(row[key]) > limit:
                    raise _reject(key, _too_long(row[key], limit))
                out[attr] = row[key] or None
        for key, attr in DATE_FIELDS.items():
            if key in row:
                out[attr] = _parse_date(key, row[key])
        for key, attr in AMOUNT_FIELDS.items():
            if key in row:
                out[attr] = _parse_amount(key, row[key])
        for key, attr in ADDRESS_FIELDS.items():
            if key in row:
                try:
                    out[attr] = _mac(row[key])
                except AddressError:
                    raise _reject(
                        key, _l("«%(value)s» is not a MAC address.", value=_shown(row[key]))
                    ) from None
        if "ip" in row:
            try:
                out["ip"] = _ip(row["ip"])
            except AddressError:
                raise _reject(
                    "ip", _l("«%(value)s» is not an IP address.", value=_shown(row["ip"]))
                ) from None
        if "notes" in row:
            out["notes"] = row["notes"].replace("\r\n", "\n") or None
        return out

    def _tag(self, row: Row) -> str | None:
        raw = row.get("numero_inventaire", "")
        if not raw:
            return None
        tag = raw.upper()
        if not _TAG.fullmatch(tag):
            raise _reject(
                "numero_inventaire",
                _l(
                    "«%(value)s»: an asset tag has 2 to 40 letters, digits, '-', '.', '_' or '/'.",
                    value=_shown(raw),
                ),
            )
        if tag in self.seen_tags:
            raise _reject(
                "numero_inventaire",
                _l(
                    "The item %(tag)s is already on line %(line)s.",
                    tag=tag,
                    line=self.seen_tags[tag],
                ),
            )
        return tag

    def _model(
        self, row: Row, asset: Asset | None
    ) -> tuple[ModelKey, EquipmentModel | None, tuple[str, str, EquipmentCategory] | None]:
        """The model named by the row: known, or to be created once the row is valid."""
        category = None
        if raw := row.get("categorie", ""):
            category = self.category_keys.get(_key(raw)) or self.category_keys.get(slug_key(raw))
            if category is None:
                raise _reject("categorie", _l("Unknown category «%(value)s».", value=_shown(raw)))
        maker, name = _words(row.get("fabricant", "")), _words(row.get("modele", ""))
        if not maker and not name and asset is not None:
            key = self.model_keys.get(asset.model_id) or self._pending_key(asset)
            model = self.models[key]
        else:
            if not maker or not name:
                raise _reject(
                    "fabricant" if not maker else "modele",
                    _l("Give the manufacturer and the model."),
                )
            if len(maker) > 100:
                raise _reject("fabricant", _too_long(maker, 100))
            if len(name) > 150:
                raise _reject("modele", _too_long(name, 150))
            key = (_key(maker), _key(name))
            found = self.models.get(key)
            if found is None:
                if category is None:
                    raise _reject(
                        "categorie",
                        _l(
                            "Give the category of the new model %(model)s.",
                            model=maker + " " + name,
                        ),
                    )
                return key, None, (maker, name, category)
            model = found
        if category is not None and category.id != model.category_id:
            raise _reject(
                "categorie",
                _l(
                    "The model %(model)s is catalogued as %(category)s.",
                    model=model.manufacturer.name + " " + model.name,
                    category=self.categories[model.category_id].name_fr,
                ),
            )
        return key, model, None

    def _pending_key(self, asset: Asset) -> ModelKey:
        # An item moved in this import to a model created by it (not flushed yet).
        model = asset.model
        return (fold(_words(model.manufacturer.name)), fold(_words(model.name)))

    def _where(self, row: Row, asset: Asset | None) -> _Place:
        if "uai" not in row and "classe" not in row and asset is not None:
            return _Place(
                asset.collectivite_id, asset.ecole_id, asset.classroom_id, asset.placement
            )
        uai_raw, room_raw = row.get("uai", ""), row.get("classe", "")
        if uai_raw:
            cached = self._where_cache.get((uai_raw, room_raw))
            if cached is not None:
                return cached
            place = self._school_place(uai_raw, room_raw)
            self._where_cache[(uai_raw, room_raw)] = place
            return place
        if room_raw:
            raise _reject("uai", _l("A classroom needs the UAI of its school."))
        if asset is not None:
            # An item already known goes to (or stays in) the storage of its collectivité.
            return _Place(asset.collectivite_id, None, None, Placement.STORAGE)
        if self.storage_id is None:
            raise _reject(
                "uai",
                _l(
                    "Give the UAI, or choose the collectivité whose storage receives "
                    "the items without a school."
                ),
            )
        return _Place(self.storage_id, None, None, Placement.STORAGE)

    def _school_place(self, uai_raw: str, room_raw: str) -> _Place:
        uai = ids.normalize_uai(uai_raw)
        if not ids.is_valid_uai(uai):
            raise _reject("uai", _l("Invalid UAI «%(uai)s».", uai=_shown(uai_raw)))
        school = self.ecoles.get(uai)
        if school is None:
            raise _reject("uai", _l("Unknown school «%(uai)s».", uai=uai))
        ecole_id, coll_id = school
        if coll_id is None:
            raise _reject("uai", _l("This school has no owning collectivité."))
        if not room_raw:
            return _Place(coll_id, ecole_id, None, Placement.SCHOOL)
        room_id = self.rooms.get((ecole_id, _key(room_raw)))
        if room_id is None:
            raise _reject(
                "classe",
                _l(
                    "No classroom «%(name)s» in the school %(uai)s.",
                    name=_shown(room_raw),
                    uai=uai,
                ),
            )
        return _Place(coll_id, ecole_id, room_id, Placement.CLASSROOM)

    def _status(self, row: Row, asset: Asset | None) -> AssetStatus:
        raw = row.get("statut", "")
        if not raw:
            return asset.status if asset is not None else AssetStatus.DELIVERED
        status = self.statuses.get(_key(raw))
        if status is None:
            raise _reject("statut", _l("Unknown status «%(value)s».", value=_shown(raw)))
        if asset is not None and status != asset.status and status not in TRANSITIONS[asset.status]:
            raise _reject(
                "statut",
                _l(
                    "An item %(current)s cannot become %(wanted)s.",
                    current=services.STATUS_LABELS[asset.status],
                    wanted=services.STATUS_LABELS[status],
                ),
            )
        return status

    def _check_consistency(self, values: dict[str, Any], asset: Asset | None) -> None:
        def value(attr: str) -> Any:
            if attr in values:
                return values[attr]
            return getattr(asset, attr) if asset is not None else None

        ht, ttc = value("price_ht_cents"), value("price_ttc_cents")
        if ht is not None and ttc is not None and ttc < ht:
            raise _reject(
                "prix_ttc", _l("The price including VAT is lower than the price without.")
            )
        bought, warranty = value("purchase_date"), value("warranty_end")
        if bought and warranty and warranty < bought:
            raise _reject("fin_garantie", _l("The warranty ends before the purchase."))

    # -- writes ----------------------------------------------------------------------------
    def _new_model(
        self, key: ModelKey, maker_name: str, name: str, category: EquipmentCategory
    ) -> EquipmentModel:
        maker = self.makers.get(key[0])
        if maker is None:
            maker = Manufacturer(name=maker_name)
            self.session.add(maker)
            self.makers[key[0]] = maker
        model = EquipmentModel(manufacturer=maker, name=name, category_id=category.id)
        self.session.add(model)
        self.models[key] = model
        self.new_models.append((key, model))
        return model

    def _create(
        self,
        tag: str | None,
        model: EquipmentModel,
        serial_key: tuple[ModelKey, str] | None,
        place: _Place,
        status: AssetStatus,
        values: dict[str, Any],
    ) -> None:
        now = utcnow()
        given = {k: v for k, v in values.items() if v is not None}
        if model.id is None:
            given["model"] = model
        else:
            given["model_id"] = model.id
        if place.ecole_id is not None:
            given["ecole_id"] = place.ecole_id
        if place.classroom_id is not None:
            given["classroom_id"] = place.classroom_id
        asset = Asset(
            tag=tag,
            category_id=model.category_id,
            collectivite_id=place.collectivite_id,
            placement=place.placement,
            status=status,
            status_since=now,
            **given,
        )
        self.session.add(asset)
        self.mine.add(id(asset))
        # Its first lifecycle step, as services.create_asset records it (written after
        # the flush that gives the item its id).
        self.created.append(asset)
        self.steps.append((asset, None, status, now))
        if tag:
            self.by_tag[tag] = asset
        else:
            year = (values.get("purchase_date") or date.today()).year
            self.untagged.append((asset, place.collectivite_id, year))
        if serial_key is not None:
            self.by_serial[serial_key] = asset

    def _update(
        self,
        asset: Asset,
        model: EquipmentModel,
        model_key: ModelKey,
        serial_key: tuple[ModelKey, str] | None,
        place: _Place,
        status: AssetStatus,
        values: dict[str, Any],
    ) -> Outcome:
        old_serial_key = (
            (self.model_keys[asset.model_id], asset.serial)
            if asset.serial and asset.model_id in self.model_keys
            else None
        )
        changed = False
        loaded = asset.__dict__  # the loaded values, read without the ORM's descriptors
        for attr, value in values.items():
            current = loaded[attr] if attr in loaded else getattr(asset, attr)
            if attr == "notes" and current is not None:
                current = current.replace("\r\n", "\n")
            if current != value:
                setattr(asset, attr, value)
                changed = True
        if model is not self.models_by_id.get(asset.model_id):
            if model.id is None:
                asset.model = model
            else:
                asset.model_id = model.id
            asset.category_id = model.category_id
            changed = True
        if old_serial_key != serial_key:
            if old_serial_key is not None and self.by_serial.get(old_serial_key) is asset:
                del self.by_serial[old_serial_key]
            if serial_key is not None:
                self.by_serial[serial_key] = asset
        here = (asset.collectivite_id, asset.ecole_id, asset.classroom_id, asset.placement)
        there = (place.collectivite_id, place.ecole_id, place.classroom_id, place.placement)
        if here != there:
            asset.collectivite_id, asset.ecole_id, asset.classroom_id, asset.placement = there
            changed = True
        if status != asset.status:
            now = utcnow()
            self.steps.append((asset, asset.status, status, now))
            asset.status, asset.status_since = status, now
            changed = True
        return Outcome.UPDATED if changed else Outcome.UNCHANGED

    def finish_batch(self) -> None:
        """Number the new items of the batch (one counter bump per collectivité and year),
        then flush: the change log records every created item in this flush."""
        s = self.session
        with s.no_autoflush:
            if self.untagged:
                self._number(self.untagged)
                self.untagged = []
            if self.created and s.get_bind().dialect.name == "sqlite":
                self._give_ids(self.created)
        self.created = []
        s.flush()
        for key, model in self.new_models:
            self.models_by_id[model.id] = model
            self.model_keys[model.id] = key
        self.new_models = []
        if self.steps:
            actor_id, label = self.actor.user_id, self.actor.label
            s.execute(
                insert(StatusChange),
                [
                    {
                        "asset_id": asset.id,
                        "from_status": before,
                        "to_status": after,
                        "at": at,
                        "actor_id": actor_id,
                        "actor_label": label,
                    }
                    for asset, before, after, at in self.steps
                ],
            )
            self.steps = []

    def _number(self, untagged: list[tuple[Asset, int, int]]) -> None:
        """Tags for the batch's new items: one atomic counter bump per collectivité and
        year reserves a block, then one query checks the whole batch for numbers taken."""
        groups: dict[tuple[int, int], list[Asset]] = defaultdict(list)
        for asset, coll_id, year in untagged:
            groups[(coll_id, year)].append(asset)
        while groups:
            blocks = {
                group: self._reserve(self.collectivites[group[0]], group[1], len(assets))
                for group, assets in groups.items()
            }
            candidates = [t for block in blocks.values() for t in block]
            used = {t for t in candidates if t in self.file_tags or t in self.by_tag}
            for chunk in _chunks(candidates):
                used.update(self.session.scalars(select(Asset.tag).where(Asset.tag.in_(chunk))))
            left: dict[tuple[int, int], list[Asset]] = {}
            for group, block in blocks.items():
                # Two collectivités may share a prefix: numbers already given are skipped.
                free = [t for t in block if t not in used and t not in self.by_tag]
                assets = groups[group]
                for asset, tag in zip(assets, free, strict=False):
                    asset.tag = tag
                    self.by_tag[tag] = asset
                if len(free) < len(assets):
                    left[group] = assets[len(free) :]
                    self._skip_taken(self.collectivites[group[0]], group[1], block[-1])
            groups = left

    def _skip_taken(self, coll: Collectivite, year: int, last_tag: str) -> None:
        """Move the counter past the numbers taken after ``last_tag`` (another collectivité
        of the same prefix numbered them, or they were imported as they were)."""
        prefix, _, number = last_tag.rpartition("-")
        if not number.isdigit():
            return
        last = self._end_of_run(f"{prefix}-", int(number))
        self.session.execute(
            update(TagCounter)
            .where(
                TagCounter.collectivite_id == coll.id,
                TagCounter.year == year,
                TagCounter.last < last,
            )
            .values(last=last)
            .execution_options(synchronize_session=False)
        )

    def _end_of_run(self, prefix: str, number: int) -> int:
        """The last number of the run of tags taken from ``number`` on: a galloping then
        binary search of exact tags (the unique index serves them on any collation), so a
        run of thousands costs a few dozen lookups."""

        def taken(n: int) -> bool:
            tag = f"{prefix}{n:05d}"
            return (
                tag in self.by_tag
                or tag in self.file_tags
                or self.session.scalar(select(Asset.id).where(Asset.tag == tag)) is not None
            )

        low, step = number, 1
        while taken(low + step):
            low, step = low + step, step * 2
        high = low + step
        while high - low > 1:
            middle = (low + high) // 2
            if taken(middle):
                low = middle
            else:
                high = middle
        return low

    def _give_ids(self, assets: list[Asset]) -> None:
        """SQLite cannot tell which id each row of a multi-row INSERT … RETURNING got, so
        the ORM would insert the items one by one. Give them their ids instead: after a
        write that holds SQLite's single write lock until the commit, ids above the
        largest one are free."""
        s = self.session
        s.execute(
            update(TagCounter)
            .where(false())
            .values(last=TagCounter.last)
            .execution_options(synchronize_session=False)
        )
        top = s.scalar(select(func.max(Asset.id))) or 0
        for number, asset in enumerate(assets, start=top + 1):
            asset.id = number

    def _reserve(self, coll: Collectivite, year: int, count: int) -> list[str]:
        """``count`` numbers of the collectivité's pattern, reserved with one atomic bump
        of its counter (as services.next_tag does for one)."""
        s = self.session
        prefix = f"{services.tag_prefix(coll)}-{year}-"
        bump = (
            update(TagCounter)
            .where(TagCounter.collectivite_id == coll.id, TagCounter.year == year)
            .values(last=TagCounter.last + count)
            .returning(TagCounter.last)
            .execution_options(synchronize_session=False)
        )
        last = s.execute(bump).scalar()
        if last is None:
            # The first number of this collectivité and year: after the tags already
            # numbered in its pattern, if any (the later check skips any other).
            last = self._end_of_run(prefix, 0) + count
            s.execute(insert(TagCounter).values(collectivite_id=coll.id, year=year, last=last))
        return [f"{prefix}{n:05d}" for n in range(last - count + 1, last + 1)]


_MAC = re.compile(r"[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}")
_IPV4 = re.compile(
    r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
)
_NOT_HOSTS = {"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "0.0.0.0"}


def _mac(value: str) -> str | None:
    """normalize_mac, with a fast path for the usual notations (as exports write them)."""
    if _MAC.fullmatch(value):
        mac = value.lower().replace("-", ":")
        if mac not in _NOT_HOSTS:
            return mac
    return normalize_mac(value)


def _ip(value: str) -> str | None:
    """normalize_ip, with a fast path for a plain IPv4 address."""
    if _IPV4.fullmatch(value):
        first = int(value[: value.index(".")])
        if first != 127 and not 224 <= first <= 239 and value not in _NOT_HOSTS:
            return value
    return normalize_ip(value)


def _too_long(value: str, limit: int) -> Any:
    return _l("«%(value)s» is longer than %(max)s characters.", value=_shown(value), max=limit)


def _status_keys() -> dict[str, AssetStatus]:
    """Status codes and labels (French and English), folded."""
    keys: dict[str, AssetStatus] = {}
    for status in AssetStatus:
        keys[fold(status.value)] = status
        keys[fold(status.value.replace("_", " "))] = status
    for locale in ("en", "fr"):
        with force_locale(locale):
            for status, label in services.STATUS_LABELS.items():
                keys.setdefault(fold(str(label)), status)
    return keys


def import_assets(
    session: Session,
    user: Subject,
    data: bytes,
    filename: str = "",
    *,
    collectivite: Collectivite | int | None = None,
) -> ImportReport:
    """Import an equipment spreadsheet (CSV or XLSX) for ``user``; idempotent."""
    return run_import(
        AssetImporter(session, user, collectivite), data, session=session, filename=filename
    )


# -- exports -------------------------------------------------------------------------------
def export_headers() -> list[str]:
    return [*HEADERS, *EXTRA_HEADERS]


def _amount(cents: int | None) -> Decimal | None:
    return None if cents is None else Decimal(cents).scaleb(-2)


def export_rows(
    session: Session, user: Subject, filters: services.AssetFilters, *, tz: Any = None
) -> Iterator[list[Cell]]:
    """The rows of every item ``user`` may see that match ``filters``, in the import columns
    (then the read-only ones). Lazy: the query runs when the first row is asked for."""
    communes: dict[int, str] = dict(session.execute(select(Commune.id, Commune.name)).all())
    result = services.all_assets(session, user, filters)
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
    for c in services.categories(session):
        rows.append(["", c.code, f"{c.name_fr} / {c.name_en}"])
    rows.append([])
    rows.append([str(_l("Statuses")), str(_l("Code")), str(_l("Name"))])
    for status, label in services.STATUS_LABELS.items():
        rows.append(["", status.value, str(label)])
    return rows


def help_headers() -> Sequence[str]:
    return (str(_l("Column")), str(_l("Also accepted")), str(_l("What to write")))
