"""The equipment importer: rows of the spreadsheet (:mod:`.spreadsheet`'s column set)
created, updated or left unchanged, idempotently.

It runs on the shared framework (:mod:`inventory.core.importing`): lookups are loaded
once in :meth:`AssetImporter.prepare`, every row is validated in full before anything is
written, and each batch is written at its end: new items as the forms record them
(:func:`inventory.assets.lifecycle.record_items`: numbered by
:func:`inventory.assets.tags.next_tags`, in bulk, with their change-log records), changed
items as ORM objects (the session's hooks log them and refresh the socle summary).
:func:`import_assets` is the one entry point (CLI, web upload, jobs).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.assets import catalogue, lifecycle, supplier_link
from inventory.assets.lifecycle import NewItem
from inventory.assets.models import (
    TRANSITIONS,
    Asset,
    AssetStatus,
    EquipmentCategory,
    EquipmentModel,
    Manufacturer,
    Placement,
)
from inventory.assets.network import AddressError, normalize_ip, normalize_mac
from inventory.assets.spreadsheet import COLUMNS, FIELD_BY_KEY
from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.exporting import restore
from inventory.core.importing import (
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
from inventory.orgs.models import Classroom, Collectivite, Ecole

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


def _key(value: str) -> str:
    """Lookup key of a name: case, accents and spacing ignored."""
    return fold(" ".join(value.split()))


def _shown(value: str) -> str:
    return value if len(value) <= 60 else value[:57] + "…"


def _reject(key: str, reason: Any) -> RowRejected:
    return RowRejected(
        _l("Column «%(column)s»: %(reason)s", column=FIELD_BY_KEY[key].header, reason=reason),
        column=key,
    )


def _date_of(raw: str) -> date | None:
    """The date ``raw`` writes, or None."""
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

    # -- lookups, loaded once --------------------------------------------------------------
    def prepare(self, table: Table, report: ImportReport) -> Iterable[tuple[int, Row]]:
        present = {
            c.name for c in COLUMNS if any(slug_key(h) in c.spellings() for h in table.header)
        }
        if "numero_inventaire" not in present and not {"fabricant", "modele"} <= present:
            missing = [k for k in ("numero_inventaire", "fabricant", "modele") if k not in present]
            raise ImportFileError(_l("Missing columns: %(columns)s.", columns=", ".join(missing)))
        s, user = self.session, self.user
        # New items wait for the batch's end as lifecycle.NewItem, written together by
        # lifecycle.record_items (the forms' way); the lookups below hold ORM objects for
        # the items that existed before the import, and NewItems for these.
        self.editing = policy.allowed(user, Action.EDIT)
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
                schools = select(Ecole.id, Ecole.uai, Ecole.collectivite_id).where(
                    Ecole.uai.in_(chunk)
                )
                for ecole_id, uai, coll_id in s.execute(policy.visible(user, schools, Ecole)):
                    self.ecoles[uai] = (ecole_id, coll_id)
        self.rooms: dict[tuple[int, str], int] = {}
        for chunk in _chunks({e for e, _ in self.ecoles.values()}):
            rooms = select(Classroom.id, Classroom.ecole_id, Classroom.name).where(
                Classroom.ecole_id.in_(chunk)
            )
            for room_id, room_school, room_name in s.execute(rooms.order_by(Classroom.id)):
                self.rooms.setdefault((room_school, fold(_words(room_name))), room_id)
        self._where_cache: dict[tuple[str, str], _Place] = {}

        self.storage_id = self._storage_collectivite(report)

        # Existing items named by the file: by tag, and by model and serial number.
        found: dict[int, Asset] = {}
        for chunk in _chunks(self.file_tags):
            for asset in s.scalars(select(Asset).where(Asset.tag.in_(chunk))):
                found[asset.id] = asset
        for model_id, chunk in self._serials_by_model(rows, found.values()):
            by_serial = select(Asset).where(Asset.model_id == model_id, Asset.serial.in_(chunk))
            for asset in s.scalars(by_serial):
                found[asset.id] = asset
        editable: set[int] = set()
        if self.editing:
            for chunk in _chunks(found):
                asset_ids = select(Asset.id).where(Asset.id.in_(chunk))
                editable.update(s.scalars(policy.visible(user, asset_ids, Asset)))
        self.mine = {id(a) for a in found.values() if a.id in editable}
        self.by_tag: dict[str, Asset | NewItem] = {a.tag: a for a in found.values()}
        self.by_serial: dict[tuple[ModelKey, str], Asset | NewItem] = {
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
        self.new_items: list[tuple[NewItem, int]] = []  # with their line
        self.steps: list[tuple[Asset, AssetStatus | None, AssetStatus, Any]] = []
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
            model_key = (
                fold(_words(maker_names[model.manufacturer_id])),
                fold(_words(model.name)),
            )
            self.models.setdefault(model_key, model)
            self.models_by_id[model.id] = model
            self.model_keys[model.id] = model_key

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
        # An item created by this import has its tag (or its serial number) on its line:
        # a row naming it again was refused above, so ``asset`` is in the database.
        assert not isinstance(asset, NewItem)
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
        self, row: Row, asset: Asset | NewItem | None
    ) -> tuple[ModelKey, EquipmentModel | None, tuple[str, str, EquipmentCategory] | None]:
        """The model named by the row: known, or to be created once the row is valid."""
        category = None
        if raw := row.get("categorie", ""):
            category = self.category_keys.get(_key(raw)) or self.category_keys.get(slug_key(raw))
            if category is None:
                raise _reject("categorie", _l("Unknown category «%(value)s».", value=_shown(raw)))
        maker, name = _words(row.get("fabricant", "")), _words(row.get("modele", ""))
        if not maker and not name and asset is not None:
            # No model id yet: the item was moved in this import to a model it creates.
            known = self.model_keys.get(asset.model_id) if asset.model_id is not None else None
            key = known or self._pending_key(asset)
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

    def _pending_key(self, asset: Asset | NewItem) -> ModelKey:
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
                    current=lifecycle.STATUS_LABELS[asset.status],
                    wanted=lifecycle.STATUS_LABELS[status],
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
            maker = self.makers[key[0]] = catalogue.add_maker(self.session, maker_name)
        model = catalogue.add_model(self.session, maker, name, category)
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
        item = NewItem(
            collectivite=self.collectivites[place.collectivite_id],
            model=model,
            placement=place.placement,
            status=status,
            values=values,
            ecole_id=place.ecole_id,
            classroom_id=place.classroom_id,
            tag=tag,
        )
        self.mine.add(id(item))
        self.new_items.append((item, self.line))
        if tag:
            self.by_tag[tag] = item
        if serial_key is not None:
            self.by_serial[serial_key] = item

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
        supplier_before = (asset.supplier, asset.collectivite_id)
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
        if (asset.supplier, asset.collectivite_id) != supplier_before:
            supplier_link.relink(self.session, asset)  # before any flush: one change
        if status != asset.status:
            now = utcnow()
            self.steps.append((asset, asset.status, status, now))
            before, asset.status, asset.status_since = asset.status, status, now
            lifecycle.announce_status(self.session, asset, before)
            changed = True
        return Outcome.UPDATED if changed else Outcome.UNCHANGED

    def finish_batch(self) -> None:
        """Write the batch: first through the ORM (new models, changed items: the
        session's hooks log them and refresh their classrooms' socle summary), with the
        lifecycle steps of the changed items; then the new items, as the forms record
        them (:func:`lifecycle.record_items`: numbered, with their first step, change-log
        record and socle summary). The run commits after each batch."""
        s = self.session
        self.batch_size = max(self.batch_size, self.later_batch_size)
        s.flush()
        for key, model in self.new_models:
            self.models_by_id[model.id] = model
            self.model_keys[model.id] = key
        self.new_models = []
        lifecycle.write_steps(s, [(a.id, before, after, at) for a, before, after, at in self.steps])
        self.steps = []
        if self.new_items:
            # A tag this import names further down stays free for that row.
            lifecycle.record_items(s, [i for i, _ in self.new_items], reserved=self.file_tags)
            for item, line in self.new_items:
                # A later row naming a tag given here finds the item on its line.
                self.by_tag[item.tag] = item  # type: ignore[index]
                self.seen_tags.setdefault(item.tag, line)  # type: ignore[arg-type]
            self.new_items = []


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
            for status, label in lifecycle.STATUS_LABELS.items():
                keys.setdefault(fold(str(label)), status)
    return keys


def import_assets(
    session: Session,
    user: Subject,
    data: bytes,
    filename: str = "",
    *,
    collectivite: Collectivite | int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import an equipment spreadsheet (CSV or XLSX) for ``user``; idempotent. Commits
    once per batch; ``progress`` is told the rows read so far after each one."""
    return run_import(
        AssetImporter(session, user, collectivite),
        data,
        session=session,
        filename=filename,
        progress=progress,
    )
