"""Bulk data shared by the benchmarks: equipment, assets, change-log records, scoped users.

Not a benchmark (its name does not start with ``bench_``). Everything here is setup: rows
are written with Core bulk inserts, with explicit ids so that the rows that refer to them
can be built in Python without reading them back, then PostgreSQL's sequences are moved
past those ids (:func:`sync_sequences`) so that the app's own inserts still get fresh ones.
The ORM hooks do not run on Core inserts: a builder writes what they would have written
(the creation record in the change log, an asset's lifecycle steps).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from inventory.core.policy import Role, Scope, ScopeKind
from tests.benchmarks.common import PASSWORD, Admin

BATCH = 10_000


# -- inserts ---------------------------------------------------------------------------------
def insert_rows(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> int:
    """``rows`` into ``model``'s table (a mapped class or a Table), in batches."""
    table = getattr(model, "__table__", model)
    for start in range(0, len(rows), BATCH):
        session.execute(insert(table), rows[start : start + BATCH])
    return len(rows)


def first_free_id(session: Session, model: Any) -> int:
    return (session.scalar(select(func.max(model.id))) or 0) + 1


def sync_sequences(session: Session, *models: Any) -> None:
    """Move PostgreSQL's id sequences past the ids given explicitly (SQLite needs nothing:
    it takes the next rowid)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        name = model.__tablename__
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"
            )
        )


def creation_records(
    object_type: str,
    rows: Iterable[tuple[int, str, int | None, int | None, dict[str, Any]]],
    at: datetime,
) -> list[dict[str, Any]]:
    """The change-log records the ORM hook writes when objects are created:
    (id, label, école id, collectivité id, changed fields) for each object."""
    return [
        {
            "at": at,
            "actor_id": None,
            "actor_label": "bench",
            "ip": None,
            "action": "create",
            "object_type": object_type,
            "object_id": object_id,
            "object_label": label[:200],
            "ecole_id": ecole_id,
            "collectivite_id": collectivite_id,
            "changes": {k: [None, v] for k, v in changes.items()},
        }
        for object_id, label, ecole_id, collectivite_id, changes in rows
    ]


# -- the equipment catalogue -----------------------------------------------------------------
# Per category code: (manufacturer, model, price incl. VAT in cents), plausible 2021-2024
# figures; only their order of magnitude matters.
CATALOGUE: dict[str, tuple[tuple[str, str, int], ...]] = {
    "eni": (("Speechi", "SPE-75UI-4K", 289_000), ("Promethean", "ActivPanel Nickel 75", 345_000)),
    "vpi": (("Epson", "EB-725Wi", 189_000), ("Epson", "EB-735Fi", 214_000)),
    "tni": (("Promethean", "ActivBoard Touch 78", 159_000),),
    "vp": (("Epson", "EB-L200SW", 99_000), ("BenQ", "LW730", 112_000)),
    "visualiseur": (("IPEVO", "V4K", 12_900), ("Lumens", "DC125", 28_500)),
    "poste_enseignant": (
        ("Lenovo", "ThinkPad E14 Gen 5", 89_000),
        ("Dell", "Latitude 3540", 84_000),
    ),
    "poste_direction": (("HP", "ProDesk 400 G9", 79_000),),
    "tablette": (
        ("Apple", "iPad 10.2 (9e génération)", 41_900),
        ("Samsung", "Galaxy Tab A8", 26_900),
    ),
    "pc_eleve": (("Lenovo", "100e Chromebook Gen 4", 32_900), ("Acer", "TravelMate B3", 36_500)),
    "classe_mobile": (("Kalidea", "Chariot 16 tablettes", 149_000),),
    "borne_wifi": (("Ubiquiti", "UniFi U6 Pro", 21_900), ("Aruba", "Instant On AP22", 19_900)),
    "commutateur": (("Netgear", "GS324TP", 42_000),),
    "copieur": (("Ricoh", "IM C2000", 389_000),),
    "captation": (("Logitech", "MeetUp", 104_900),),
    "autre": (("Divers", "Enceinte Bluetooth", 9_900),),
}
# Categories of one item per classroom; the others sit at the school level.
PER_CLASSROOM = frozenset({"eni", "vpi", "tni", "vp", "visualiseur", "poste_enseignant"})


@dataclass(frozen=True)
class Model:
    id: int
    category_id: int
    category: str
    name: str
    price_cents: int


def add_catalogue(session: Session) -> dict[str, list[Model]]:
    """Manufacturers and models for every seeded category; category code → its models."""
    from inventory.assets.models import EquipmentCategory, EquipmentModel, Manufacturer

    categories = dict(session.execute(select(EquipmentCategory.code, EquipmentCategory.id)).all())
    makers: dict[str, int] = {}
    next_maker = first_free_id(session, Manufacturer)
    next_model = first_free_id(session, EquipmentModel)
    models: dict[str, list[Model]] = {}
    model_rows = []
    for code, entries in CATALOGUE.items():
        for maker, name, price in entries:
            if maker not in makers:
                makers[maker] = next_maker
                next_maker += 1
            model = Model(next_model, categories[code], code, f"{maker} {name}", price)
            models.setdefault(code, []).append(model)
            model_rows.append(
                {
                    "id": model.id,
                    "manufacturer_id": makers[maker],
                    "category_id": model.category_id,
                    "name": name,
                }
            )
            next_model += 1
    insert_rows(session, Manufacturer, [{"id": i, "name": n} for n, i in makers.items()])
    insert_rows(session, EquipmentModel, model_rows)
    sync_sequences(session, Manufacturer, EquipmentModel)
    return models


# -- assets ----------------------------------------------------------------------------------
def tag_prefix(name: str) -> str:
    """Three letters of the collectivité's name, as the app's default tag pattern."""
    folded = unicodedata.normalize("NFKD", name)
    letters = re.sub(r"[^A-Z]", "", "".join(c for c in folded if c.isascii()).upper())
    return (letters[:3] or "SOC").ljust(3, "X")


@dataclass
class AssetSpec:
    """One item to create; ``in_service_at`` None leaves it delivered."""

    model: Model
    collectivite_id: int
    collectivite_name: str
    ecole_id: int | None
    classroom_id: int | None
    delivered_at: datetime
    in_service_at: datetime | None = None
    price_cents: int | None = None


class Assets:
    """Writes assets with their lifecycle steps; tags follow ``PRE-YEAR-NNNNN`` with a
    counter per prefix and year, as the app's own counter would."""

    def __init__(self, session: Session) -> None:
        from inventory.assets.models import Asset

        self.session = session
        self.next_id = first_free_id(session, Asset)
        self.counters: dict[tuple[str, int], int] = {}

    def add(self, specs: Sequence[AssetSpec]) -> list[int]:
        from inventory.assets.models import Asset, AssetStatus, Placement, StatusChange

        assets, steps, ids = [], [], []
        for spec in specs:
            asset_id = self.next_id
            self.next_id += 1
            ids.append(asset_id)
            year = spec.delivered_at.year
            key = (tag_prefix(spec.collectivite_name), year)
            self.counters[key] = number = self.counters.get(key, 0) + 1
            status = AssetStatus.IN_SERVICE if spec.in_service_at else AssetStatus.DELIVERED
            price = spec.model.price_cents if spec.price_cents is None else spec.price_cents
            placement = (
                Placement.CLASSROOM
                if spec.classroom_id
                else Placement.SCHOOL
                if spec.ecole_id
                else Placement.STORAGE
            )
            assets.append(
                {
                    "id": asset_id,
                    "tag": f"{key[0]}-{year}-{number:05d}",
                    "model_id": spec.model.id,
                    "category_id": spec.model.category_id,
                    "serial": f"SN{asset_id:09d}",
                    "collectivite_id": spec.collectivite_id,
                    "ecole_id": spec.ecole_id,
                    "classroom_id": spec.classroom_id,
                    "placement": placement,
                    "status": status,
                    "status_since": spec.in_service_at or spec.delivered_at,
                    "supplier": "UGAP",
                    "purchase_date": spec.delivered_at.date(),
                    "price_ht_cents": round(price / 1.2),
                    "price_ttc_cents": price,
                    "warranty_end": spec.delivered_at.date() + timedelta(days=3 * 365),
                    "created_at": spec.delivered_at,
                    "version": 1,
                }
            )
            steps.append(
                {
                    "asset_id": asset_id,
                    "from_status": None,
                    "to_status": AssetStatus.DELIVERED,
                    "at": spec.delivered_at,
                    "actor_label": "bench",
                }
            )
            if spec.in_service_at:
                steps.append(
                    {
                        "asset_id": asset_id,
                        "from_status": AssetStatus.DELIVERED,
                        "to_status": AssetStatus.IN_SERVICE,
                        "at": spec.in_service_at,
                        "actor_label": "bench",
                    }
                )
        insert_rows(self.session, Asset, assets)
        insert_rows(self.session, StatusChange, steps)
        return ids

    def finish(self) -> None:
        """Sequences, and the classrooms' socle summary the ORM hook would have refreshed."""
        from inventory.assets.models import Asset, StatusChange
        from inventory.assets.socle import refresh

        sync_sequences(self.session, Asset, StatusChange)
        if self.session.get_bind().dialect.name == "postgresql":
            # Without statistics on the rows just loaded, PostgreSQL plans the refresh's
            # per-classroom counts badly: 9 minutes instead of seconds for 220,000 assets.
            # ANALYZE may run inside the transaction and samples its own new rows.
            self.session.execute(text("ANALYZE assets, classrooms, asset_status_changes"))
        refresh(self.session.connection())


def equip_school(
    rng: random.Random,
    models: dict[str, list[Model]],
    school: School,
    delivered_at: datetime,
    in_service_at: datetime | None,
) -> list[AssetSpec]:
    """A school's socle equipment: a display and a teacher laptop per classroom, a
    document camera in some, and a few school-level items."""
    specs = []

    def add(code: str, classroom_id: int | None) -> None:
        specs.append(
            AssetSpec(
                rng.choice(models[code]),
                school.collectivite_id,
                school.collectivite_name,
                school.id,
                classroom_id,
                delivered_at,
                in_service_at,
            )
        )

    for room in school.classrooms:
        add(rng.choice(("eni", "eni", "vpi", "vp")), room)
        add("poste_enseignant", room)
        if rng.random() < 0.4:
            add("visualiseur", room)
    for code in ("borne_wifi", "tablette", "tablette", "tablette", "tablette"):
        if rng.random() < 0.6:
            add(code, None)
    return specs


# -- the registry as the builders need it ------------------------------------------------------
@dataclass
class School:
    id: int
    name: str
    departement_id: int
    circonscription_id: int | None
    collectivite_id: int
    collectivite_name: str
    classrooms: list[int]


def public_schools(session: Session) -> list[School]:
    """Schools owned by a collectivité, with their classrooms in order, by id."""
    from inventory.orgs.models import Classroom, Collectivite, Ecole

    rooms: dict[int, list[int]] = {}
    for ecole_id, room_id in session.execute(
        select(Classroom.ecole_id, Classroom.id).order_by(Classroom.ecole_id, Classroom.position)
    ):
        rooms.setdefault(ecole_id, []).append(room_id)
    stmt = (
        select(
            Ecole.id,
            Ecole.name,
            Ecole.departement_id,
            Ecole.circonscription_id,
            Ecole.collectivite_id,
            Collectivite.name,
        )
        .join(Collectivite, Collectivite.id == Ecole.collectivite_id)
        .order_by(Ecole.id)
    )
    return [
        School(e, name, dep, circo, coll, coll_name, rooms.get(e, []))
        for e, name, dep, circo, coll, coll_name in session.execute(stmt)
    ]


def moment(rng: random.Random, start: date, end: date) -> datetime:
    """A working-hours moment between two days, timezone-aware."""
    day = start + timedelta(days=rng.randrange(max(1, (end - start).days)))
    return datetime(day.year, day.month, day.day, rng.randrange(7, 16), 0, tzinfo=UTC)


# -- users -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reader:
    """What the policy reads of a user, to time a service without a request."""

    role: Role
    scope: Scope


def signed_in(
    app: Flask, role: Role, scopes: Sequence[tuple[ScopeKind, int]], email: str
) -> tuple[FlaskClient, Reader]:
    """A test client signed in (through the login form) as a new user of ``role`` with
    ``scopes``, and the same user as a policy subject for direct service calls."""
    from inventory.auth.services import ScopeChoice, create_user
    from inventory.extensions import db

    with app.app_context():
        create_user(
            db.session,
            Admin(),
            email=email,
            name="Bench",
            role=role,
            scopes=[ScopeChoice(kind, ref) for kind, ref in scopes],
            password=PASSWORD,
        )
        db.session.remove()
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    if response.status_code != 302:
        raise AssertionError(f"login failed: {response.status_code}")
    ids: dict[ScopeKind, set[int]] = {}
    for kind, ref in scopes:
        ids.setdefault(kind, set()).add(ref)
    scope = Scope(ids={k: frozenset(v) for k, v in ids.items()})
    return client, Reader(role, scope)
