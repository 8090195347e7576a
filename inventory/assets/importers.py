"""Equipment spreadsheets: the documented column set, its importer and the export rows.

One column set serves the template, the importer and the exports, so that an export
imported again changes nothing. The importer runs on the shared framework
(:mod:`inventory.core.importing`): lookups are loaded once in :meth:`AssetImporter.prepare`,
every row is validated in full before anything is written, and created items are staged
rows written in bulk with the batch (:mod:`inventory.core.bulk`: their change-log records
in the same transaction), while changed items stay ORM objects (the session's hooks log
them and refresh the socle summary).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from inventory.assets import services, socle
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
    asset_search_text,
)
from inventory.assets.network import AddressError, normalize_ip, normalize_mac
from inventory.core import audit, policy
from inventory.core.bulk import BackgroundWrites, BulkInsert, Checkpoints, Staged
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
_PLAIN_AMOUNT = re.compile(r"(\d{1,12})(?:[.,](\d{1,2}))?")
_CHUNK = 500
# The optional columns of a new item, all written (None when the file leaves them out).
_NO_VALUES: dict[str, Any] = dict.fromkeys(
    (
        "serial",
        *(attr for attr, _ in TEXT_FIELDS.values()),
        *DATE_FIELDS.values(),
        *AMOUNT_FIELDS.values(),
        *ADDRESS_FIELDS.values(),
        "ip",
        "notes",
    )
)


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


@lru_cache(maxsize=4096)
def _date_of(raw: str) -> date | None:
    """The date ``raw`` writes, or None (memoised: the rows of a delivery share dates)."""
    try:
        if m := _ISO_DATE.fullmatch(raw):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _FR_DATE.fullmatch(raw):
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        pass
    return None


def _parse_date(key: str, raw: str) -> date | None:
    if not raw:
        return None
    found = _date_of(raw)
    if found is None:
        raise _reject(
            key, _l("«%(value)s» is not a date (YYYY-MM-DD or DD/MM/YYYY).", value=_shown(raw))
        )
    return found


def _parse_amount(key: str, raw: str) -> int | None:
    plain = _PLAIN_AMOUNT.fullmatch(
        raw.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    )
    if plain:
        # What spreadsheets and exports write (2490.00, 2 490,00): integer arithmetic gives
        # what parse_amount's Decimal would, without it (two amounts a row, in the hot loop).
        cents: int | None = int(plain[1]) * 100 + int((plain[2] or "").ljust(2, "0"))
    else:
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
    # Rows per transaction: each commit writes the full-text index's new terms as a
    # segment that later merges rewrite, and ends a write of every table's indexes. The
    # first batch is smaller, so that the writes start early (they run in the background
    # while the next rows are validated).
    batch_size = 2_000
    later_batch_size = 10_000

    def __init__(
        self, session: Session, user: Subject, collectivite: Collectivite | int | None = None
    ) -> None:
        self.session = session
        self.user = user
        self.collectivite_id = (
            collectivite.id if isinstance(collectivite, Collectivite) else collectivite
        )
        self.line = 0
        # The moment of the batch's new items (created, in their first status): one per
        # batch, as they are written together; converted once for the database.
        self.batch_time = utcnow()
        self.writes: BackgroundWrites | None = None
        self.checkpoints: Checkpoints | None = None

    # -- lookups, loaded once --------------------------------------------------------------
    def prepare(self, table: Table, report: ImportReport) -> Iterable[tuple[int, Row]]:
        present = {
            c.name for c in COLUMNS if any(slug_key(h) in c.spellings() for h in table.header)
        }
        if "numero_inventaire" not in present and not {"fabricant", "modele"} <= present:
            missing = [k for k in ("numero_inventaire", "fabricant", "modele") if k not in present]
            raise ImportFileError(_l("Missing columns: %(columns)s.", columns=", ".join(missing)))
        s, user = self.session, self.user
        # New items are staged rows (written with the batch); the lookups below hold ORM
        # objects for the items that existed before the import and Staged rows for these.
        # A batch's rows are written, and committed, in the background while the next
        # batch is validated: the writes hold the connection until finish_batch waits.
        self.writes = BackgroundWrites()
        self.checkpoints = Checkpoints(s.connection())
        self.bulk = BulkInsert(s, self.writes)
        self.editing = policy.allowed(user, Action.EDIT)
        self.actor = audit.current_actor()
        self._load_catalogue()
        self.statuses = _status_keys()

        rows = table.rows
        uais = {ids.normalize_uai(r.get("uai", "")) for _, r in rows} - {""}
        self.file_tags = {
            r["numero_inventaire"].upper() for _, r in rows if r.get("numero_inventaire")
        }

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

        # Existing items named by the file: by tag, and by model and serial number.
        found: dict[int, Asset] = {}
        for chunk in _chunks(self.file_tags):
            for asset in s.scalars(select(Asset).where(Asset.tag.in_(chunk))):
                found[asset.id] = asset
        for model_id, chunk in self._serials_by_model(rows, found.values()):
            stmt = select(Asset).where(Asset.model_id == model_id, Asset.serial.in_(chunk))
            for asset in s.scalars(stmt):
                found[asset.id] = asset
        editable: set[int] = set()
        if self.editing:
            for chunk in _chunks(found):
                stmt = select(Asset.id).where(Asset.id.in_(chunk))
                editable.update(s.scalars(policy.visible(user, stmt, Asset)))
        self.mine = {id(a) for a in found.values() if a.id in editable}
        self.by_tag: dict[str, Asset | Staged] = {a.tag: a for a in found.values()}
        self.by_serial: dict[tuple[ModelKey, str], Asset | Staged] = {
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
        self.untagged: list[tuple[Staged, int, int]] = []
        self.created: list[tuple[Staged, EquipmentModel]] = []
        self.taken_tags: set[str] = set()  # tags the numbering found in the database
        self.free_tags: set[str] = set()  # and the ones it found free (for one batch)
        # Per tag pattern, the runs of numbers found taken, (first, last): collectivités
        # sharing a prefix meet the same runs, batch after batch.
        self.runs: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.in_service_rooms: set[int] = set()
        self.steps: list[tuple[Asset | Staged, AssetStatus | None, AssetStatus, Any]] = []
        self.new_models: list[tuple[ModelKey, EquipmentModel]] = []
        return self._numbered(rows)

    def _serials_by_model(
        self, rows: list[tuple[int, Row]], tagged: Iterable[Asset]
    ) -> Iterator[tuple[int, list[str]]]:
        """The serial numbers of the file by catalogue model (the row's, else that of the
        item its tag names), in chunks: what the unique (model, serial) index finds. A
        model the catalogue lacks has no item yet."""
        model_of_tag = {a.tag: a.model_id for a in tagged}
        serials: dict[int, set[str]] = defaultdict(set)
        for _, r in rows:
            serial = r.get("numero_serie", "").upper()
            if not serial:
                continue
            maker, name = _words(r.get("fabricant", "")), _words(r.get("modele", ""))
            if maker and name:
                model = self.models.get((_key(maker), _key(name)))
                model_id = model.id if model is not None else None
            else:
                model_id = model_of_tag.get(r.get("numero_inventaire", "").upper())
            if model_id is not None:
                serials[model_id].add(serial)
        for model_id, values in serials.items():
            for chunk in _chunks(values):
                yield model_id, chunk

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
        now = self.batch_time
        # Every column, in one order: the rows of a batch then share one multi-row INSERT
        # (core.bulk groups rows by their set of columns). The defaults are the ORM's.
        asset = self.bulk.add(
            Asset,
            tag=tag,
            # A model created by this import is written (by the ORM) before the items.
            model_id=model if model.id is None else model.id,
            category_id=model.category_id,
            collectivite_id=place.collectivite_id,
            ecole_id=place.ecole_id,
            classroom_id=place.classroom_id,
            placement=place.placement,
            status=status,
            status_since=now,
            **{**_NO_VALUES, **values},
            created_at=now,
            version=1,
        )
        self.mine.add(id(asset))
        self.created.append((asset, model))
        # Its first lifecycle step, as services.create_asset records it (staged with the
        # batch's other steps).
        self.steps.append((asset, None, status, now))
        if status is AssetStatus.IN_SERVICE and place.classroom_id is not None:
            self.in_service_rooms.add(place.classroom_id)
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
        """Number the batch's new items, then write: first through the ORM (new models,
        changed items: the session's hooks log them and refresh their classrooms' socle
        summary), then in bulk the new items with their change-log records and the
        batch's lifecycle steps, and last the socle summary of the classrooms that new
        items enter in service (no ORM event fires for rows written in bulk). The writes
        in bulk, the summary and the commit (:meth:`commit`) run in the background."""
        s, writes = self.session, self.writes
        assert writes is not None, "prepare() first"
        writes.wait()  # the last batch's: the connection is free again
        self.batch_size = max(self.batch_size, self.later_batch_size)
        if self.untagged:
            with s.no_autoflush:
                self._number(self.untagged)
            self.untagged = []
        for asset, model in self.created:
            # What the mapper hook on Asset computes for an item written by the ORM.
            asset.search_text = asset_search_text(
                asset.tag, asset.serial, model.manufacturer.name, model.name
            )
        self.created = []
        s.flush()
        for key, model in self.new_models:
            self.models_by_id[model.id] = model
            self.model_keys[model.id] = key
        self.new_models = []
        if self.steps:
            assets, befores, afters, moments = (list(c) for c in zip(*self.steps, strict=True))
            n = len(assets)
            self.bulk.add_columns(
                StatusChange,
                asset_id=assets,
                from_status=befores,
                to_status=afters,
                at=moments,
                actor_id=[self.actor.user_id] * n,
                actor_label=[self.actor.label] * n,
                note=[None] * n,
            )
            self.steps = []
        self.bulk.flush()
        if self.in_service_rooms:
            # Only items in service count in the summary: other new items change nothing.
            writes.submit(partial(socle.refresh, s.connection(), self.in_service_rooms))
            self.in_service_rooms = set()
        self.batch_time = utcnow()

    def commit(self, session: Any) -> None:
        # The batch's transaction ends once its writes are done, on the driver's
        # connection, behind the session, which the next batch's validation keeps using
        # (it reads nothing from the database). The session's own commit, after the last
        # batch, ends the last transaction.
        if self.writes is None:
            session.commit()
            return
        self.writes.submit(session.connection().connection.driver_connection.commit)
        if self.checkpoints is not None:
            self.writes.submit(self.checkpoints.after_commit)

    def close(self, *, failed: bool = False) -> None:
        try:
            if self.writes is not None:
                self.writes.close(discard=failed)
        finally:
            if self.checkpoints is not None:
                self.checkpoints.release()

    # -- tag numbering ---------------------------------------------------------------------
    def _number(self, untagged: list[tuple[Staged, int, int]]) -> None:
        """Tags for the batch's new items, by the rule of services.next_tag: each
        collectivité and year numbers its items in turn from its counter, skipping only
        the numbers already taken (by another collectivité of the same prefix, or imported
        as they were), so that no number is lost.

        In few statements whatever the number of collectivités: one bump of all their
        counters reserves a block each, one lookup finds the numbers of the blocks already
        taken; the collectivités left short look up the run of taken numbers after their
        block (all at once), and one more bump moves their counters past it."""
        self.free_tags = set()
        groups: dict[tuple[int, int], list[Staged]] = defaultdict(list)
        for asset, coll_id, year in untagged:
            groups[(coll_id, year)].append(asset)
        prefixes = {
            (coll_id, year): f"{services.tag_prefix(self.collectivites[coll_id])}-{year}-"
            for coll_id, year in groups
        }
        last = self._reserve({group: len(assets) for group, assets in groups.items()}, prefixes)
        while groups:
            blocks = {
                group: [
                    f"{prefixes[group]}{n:05d}"
                    for n in range(last[group] - len(a) + 1, last[group] + 1)
                ]
                for group, a in groups.items()
            }
            self._look_up(t for block in blocks.values() for t in block)
            short: dict[tuple[int, int], list[Staged]] = {}
            for group, assets in groups.items():
                free = [t for t in blocks[group] if not self._taken(t)]
                for asset, tag in zip(assets, free, strict=False):
                    asset.tag = tag
                    self.by_tag[tag] = asset
                if len(free) < len(assets):
                    short[group] = assets[len(free) :]
            if not short:
                return
            ends = self._ends_of_runs({g: (prefixes[g], last[g]) for g in short})
            # Each counter stands at the end of its block: past the run, a block for the
            # rest. Collectivités of one prefix meet the same run: each block then starts
            # after the blocks claimed before it, rather than in one more round.
            claimed: dict[str, list[tuple[int, int]]] = defaultdict(list)
            moves = {}
            for group, assets in short.items():
                end = ends[group]
                before = claimed[prefixes[group]]
                while met := next((b for b in before if b[0] <= end + 1 <= b[1]), None):
                    end = met[1]
                before.append((end + 1, end + len(assets)))
                moves[group] = end - last[group] + len(assets)
            last = self._bump(moves)
            groups = short

    def _reserve(
        self, counts: dict[tuple[int, int], int], prefixes: dict[tuple[int, int], str]
    ) -> dict[tuple[int, int], int]:
        """Reserve ``count`` numbers per (collectivité, year): the last number of each
        block. A collectivité's first number of the year follows the numbers already
        given in its pattern, if any (the later check skips any other)."""
        last = self._bump(counts)
        missing = {g: (prefixes[g], 0) for g in counts if g not in last}
        if missing:
            starts = self._ends_of_runs(missing)
            rows = [
                {"collectivite_id": g[0], "year": g[1], "last": starts[g] + counts[g]}
                for g in missing
            ]
            self.session.execute(insert(TagCounter), rows)
            last.update({(r["collectivite_id"], r["year"]): r["last"] for r in rows})
        return last

    def _bump(self, moves: dict[tuple[int, int], int]) -> dict[tuple[int, int], int]:
        """Add ``moves`` to the counters, in one atomic UPDATE … RETURNING per chunk (as
        services.next_tag does for one): their new values, for the counters that exist.

        The bump holds the counters until the commit (PostgreSQL locks the rows, SQLite
        the whole database), so that the lookups that follow see every number taken.
        Written as SQL joining a VALUES list (both engines name its columns column1…):
        the statement built by expressions, a CASE branch per counter, cost more to
        compile than to run."""
        out: dict[tuple[int, int], int] = {}
        connection = self.session.connection()
        for chunk in _chunks(moves.items(), 500):
            # Integers only, written in the statement: nothing to quote.
            values = ", ".join(f"({int(c)}, {int(y)}, {int(n)})" for (c, y), n in chunk)
            sql = (
                f"UPDATE {_COUNTERS} SET last = {_COUNTERS}.last + v.column3 "
                f"FROM (VALUES {values}) AS v WHERE {_COUNTERS}.collectivite_id = v.column1 "
                f"AND {_COUNTERS}.year = v.column2 "
                f"RETURNING {_COUNTERS}.collectivite_id, {_COUNTERS}.year, {_COUNTERS}.last"
            )
            out.update(((c, y), n) for c, y, n in connection.exec_driver_sql(sql))
        return out

    def _ends_of_runs(self, starts: dict[Any, tuple[str, int]]) -> dict[Any, int]:
        """For each (prefix, number): the last number of the run of tags taken from
        ``number`` on (``number`` itself when the next one is free). A galloping then
        narrowing search of exact tags (the unique index serves them on any collation),
        several probes per key a step, the probes of every key in one lookup: a run of
        thousands costs a handful of lookups whatever the number of keys."""
        ends: dict[Any, int] = {}
        # key → (prefix, last number known taken, first number known free or None), the
        # search starting past the runs an earlier search found.
        pending: dict[Any, tuple[str, int, int | None]] = {
            key: (prefix, self._past_runs(prefix, number), None)
            for key, (prefix, number) in starts.items()
        }
        while pending:
            probes = {key: _probes(low, high) for key, (_, low, high) in pending.items()}
            self._look_up(
                f"{pending[key][0]}{n:05d}" for key, numbers in probes.items() for n in numbers
            )
            left = {}
            for key, (prefix, low, high) in pending.items():
                # The run ends before the first probe found free (the numbers between
                # two taken probes are taken: a run, as the counters leave them).
                for n in probes[key]:
                    if not self._taken(f"{prefix}{n:05d}"):
                        high = n
                        break
                    low = n
                if high is None or high - low > 1:
                    left[key] = (prefix, low, high)
                else:
                    ends[key] = low
                    if low > starts[key][1]:
                        self.runs[prefix].append((starts[key][1] + 1, low))
            pending = left
        return ends

    def _past_runs(self, prefix: str, number: int) -> int:
        """``number``, or the end of the known run of taken numbers that follows it."""
        runs = self.runs.get(prefix, ())
        while run := next((r for r in runs if r[0] <= number + 1 <= r[1]), None):
            number = run[1]
        return number

    def _taken(self, tag: str) -> bool:
        return tag in self.by_tag or tag in self.file_tags or tag in self.taken_tags

    def _look_up(self, tags: Iterable[str]) -> None:
        """Note which of these tags the database holds (a taken tag stays taken; a free
        one is asked again by the next batch only: the numbering of another transaction
        may take it then)."""
        unknown = {t for t in tags if t not in self.free_tags and not self._taken(t)}
        connection = self.session.connection()
        # The driver's own placeholders: an expanding IN of hundreds of values costs
        # SQLAlchemy more to render than the database to answer.
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        for chunk in _chunks(unknown):
            sql = f"SELECT tag FROM {_ASSETS} WHERE tag IN ({', '.join([mark] * len(chunk))})"
            found = {tag for (tag,) in connection.exec_driver_sql(sql, tuple(chunk))}
            self.taken_tags.update(found)
            self.free_tags.update(t for t in chunk if t not in found)


_PROBES = 16  # per key and lookup: 16 numbers narrow a run 17 times a step


def _probes(low: int, high: int | None) -> list[int]:
    """The numbers to look up after ``low`` (taken): up to ``high`` (free) evenly spaced,
    or galloping when no free number is known yet (1, 2, 4 … 32,768 further)."""
    if high is None:
        return [low + (1 << i) for i in range(_PROBES)]
    gap = high - low
    if gap <= _PROBES + 1:
        return list(range(low + 1, high))
    return sorted({low + gap * i // (_PROBES + 1) for i in range(1, _PROBES + 1)})


_ASSETS = Asset.__tablename__
_COUNTERS = TagCounter.__tablename__

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
