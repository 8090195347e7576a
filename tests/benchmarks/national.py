"""National-scale data shared by the benchmarks, written fast with bulk inserts.

``build(app, scale=...)`` fills a fresh, migrated database with what a national
deployment holds: the registry of bench_registry (50,000 schools imported through the
real Annuaire importer, 300,000 classrooms), an equipment catalogue, 2,000,000 assets
spread over the classrooms with their asset tags, serial numbers, addresses, purchase
data, lifecycle statuses and QR-label tokens, finished or planned network works, and the
summaries the app maintains (``classroom_socle`` through the app's own refresh, the tag
counters, the first lifecycle step of each item). Grant dossiers with their expense lines,
helpdesk tickets and training sessions are optional: a benchmark asks only for the pieces
it reads.

Rows are written with SQLAlchemy Core (``conn.execute(insert(table), [dicts])`` in
chunks), never object by object through the ORM, so the change log holds none of them,
as after any bulk import; everything else is what the services would have written.
Random choices come from one seeded generator: two builds at the same scale hold the
same data (the tokens included).
"""

from __future__ import annotations

import base64
import random
import time as clock
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from types import SimpleNamespace
from typing import Any

from flask import Flask
from sqlalchemy import JSON, Connection, Table, func, insert, literal, select, text

from tests.benchmarks import bench_registry
from tests.benchmarks.common import Admin, analyze, log, stopwatch

SEED = 20_261_130
SCHOOLS = bench_registry.SCHOOLS  # 50,000
CLASSROOMS = bench_registry.CLASSROOMS  # 300,000
ASSETS = 2_000_000
DOSSIERS = 7_000
EXPENSES = 100_000
TICKETS = 100_000
TRAINING_SESSIONS = 30_000
# The collectivité that benchmarks of per-collectivité pages open: it owns exactly this
# many schools (the largest commune of the synthetic Annuaire owns about 40).
OWNER_SCHOOLS = 50
CHUNK = 20_000  # rows per INSERT … executemany
COMMIT_EVERY = 200_000  # rows per transaction while the assets are written
NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()
BENCH_ACTOR = "bench:national"

# -- the equipment catalogue ------------------------------------------------------------
# category code → models (manufacturer, model, price excl. VAT in cents, serial prefix,
# MAC prefix of the maker).
CATALOGUE: dict[str, tuple[tuple[str, str, int, str, str], ...]] = {
    "eni": (
        ("Speechi", "SpeechiTouch 75 Pro", 249_000, "ST75", "00:1e:c2"),
        ("Promethean", "ActivPanel 9 75", 289_000, "AP975", "00:21:5c"),
        ("Samsung", "Flip Pro WM75B", 269_000, "WM75", "8c:77:12"),
        ("Clevertouch", "UX Pro 65", 219_000, "CTUX", "70:b3:d5"),
    ),
    "vpi": (
        ("Epson", "EB-725Wi", 159_000, "X5MK", "64:eb:8c"),
        ("Epson", "EB-695Wi", 139_000, "X4HK", "64:eb:8c"),
        ("Sahara", "Clevertouch VPI 420", 129_000, "SVP4", "00:0e:c6"),
    ),
    "tni": (
        ("Promethean", "ActivBoard Touch 88", 119_000, "ABT8", "00:21:5c"),
        ("Smart", "SMART Board M787", 139_000, "SBM7", "00:0a:e4"),
        ("Speechi", "Tableau SpeechiBoard 80", 99_000, "SB80", "00:1e:c2"),
    ),
    "vp": (
        ("Epson", "EB-W51", 49_000, "X9QK", "64:eb:8c"),
        ("Optoma", "W400LVe", 45_000, "Q8UA", "e0:b7:2e"),
    ),
    "visualiseur": (
        ("IPEVO", "V4K", 9_000, "IPV4", "00:1a:2b"),
        ("Speechi", "SpeechiCam 8", 14_000, "SC08", "00:1e:c2"),
    ),
    "poste_enseignant": (
        ("Lenovo", "ThinkPad E14 Gen 5", 79_000, "PF4A", "8c:16:45"),
        ("Dell", "Latitude 3540", 75_000, "DL35", "d0:94:66"),
        ("HP", "ProBook 440 G10", 81_000, "5CD3", "94:57:a5"),
    ),
    "poste_direction": (
        ("Lenovo", "ThinkCentre M70q", 69_000, "MJ0G", "8c:16:45"),
        ("Dell", "OptiPlex 7010", 72_000, "DO70", "d0:94:66"),
    ),
    "tablette": (
        ("Apple", "iPad 10.9 (10e génération)", 42_000, "DMPX", "f0:18:98"),
        ("Samsung", "Galaxy Tab A9+", 23_000, "R9TW", "8c:77:12"),
        ("Lenovo", "Tab M10 Gen 3", 19_000, "HA1K", "8c:16:45"),
    ),
    "pc_eleve": (
        ("Lenovo", "500e Yoga Chromebook", 39_000, "PF3Y", "8c:16:45"),
        ("Acer", "TravelMate Spin B3", 36_000, "NXV1", "00:1c:25"),
    ),
    "classe_mobile": (
        ("Manutan", "Chariot 16 tablettes", 89_000, "MCH16", "00:00:00"),
        ("Bretford", "Cube Cart 24", 119_000, "BCC24", "00:00:00"),
    ),
    "borne_wifi": (
        ("Ubiquiti", "UniFi U6 Pro", 16_000, "U6PR", "78:8a:20"),
        ("Aruba", "AP-505", 29_000, "CNR5", "00:0b:86"),
    ),
    "commutateur": (
        ("Netgear", "GS324TP", 32_000, "6XL1", "a0:40:a0"),
        ("Cisco", "CBS250-24P", 41_000, "FOC2", "00:1b:54"),
    ),
    "copieur": (
        ("Canon", "imageRUNNER 2625i", 189_000, "XNK0", "00:1e:8f"),
        ("Ricoh", "IM 2702", 159_000, "C87R", "00:26:73"),
    ),
    "captation": (
        ("Logitech", "MeetUp", 79_000, "2148", "00:00:00"),
        ("Jabra", "PanaCast 20", 25_000, "JP20", "00:00:00"),
    ),
}
DISPLAYS = (("eni", 45), ("vpi", 22), ("tni", 18), ("vp", 15))
# Per classroom: the share of rooms with each fixed item (the display is drawn above).
ROOM_ITEMS = (("poste_enseignant", 0.85), ("visualiseur", 0.5), ("captation", 0.25))
ROOM_WIFI = 0.35
# Lifecycle: status → weight, for items placed in a classroom or a school.
STATUSES = (
    ("in_service", 8_500),
    ("installed", 350),
    ("delivered", 200),
    ("ordered", 100),
    ("under_repair", 300),
    ("retired", 450),
    ("lost", 100),
)
STATUS_NAMES = [s for s, _ in STATUSES]
STATUS_CUM = list(accumulate(w for _, w in STATUSES))
DISPLAY_CODES = [c for c, _ in DISPLAYS]
DISPLAY_CUM = list(accumulate(w for _, w in DISPLAYS))
SUPPLIERS = ("UGAP", "Manutan Collectivités", "Econocom", "Inmac Wstore", "Bechtle", "Axians")
# Purchase years: the 2021-2022 wave of the socle numérique programme, and the years around.
YEARS = (2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025)
YEAR_WEIGHTS = (2, 3, 4, 5, 8, 22, 26, 13, 10, 7)
NOTES = ("Fixé au mur, côté fenêtre", "Prêt à l'école voisine", "Câble HDMI à remplacer")
WIFI_MAC = {"tablette", "pc_eleve", "poste_enseignant"}
WITH_IP = {"eni", "copieur", "borne_wifi", "commutateur", "poste_direction"}

# Crockford base32, as inventory.labels.tokens.ALPHABET: the tokens are drawn from the
# same 32 symbols, 16 of them (80 bits), only from the seeded generator.
_RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TOKEN_TABLE = str.maketrans(_RFC4648, "0123456789ABCDEFGHJKMNPQRSTVWXYZ")


@dataclass
class National:
    """What was built, with what the benchmarks need to find their way in it."""

    registry: bench_registry.Synthetic
    annuaire_rate: float  # rows/s of the real Annuaire import
    schools: int
    classrooms: int
    collectivite_id: int  # owns OWNER_SCHOOLS schools
    departement_id: int  # the département with the most schools
    assets: int = 0
    scan_tokens: int = 0
    works: int = 0
    dossiers: int = 0
    expenses: int = 0
    tickets: int = 0
    sessions: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # of this process: the wall time also counts what others ran

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def summary(self) -> str:
        parts = [
            f"{self.schools:,} schools",
            f"{self.classrooms:,} classrooms",
            f"{self.assets:,} assets",
        ]
        for label, n in (
            ("scan tokens", self.scan_tokens),
            ("network works", self.works),
            ("dossiers", self.dossiers),
            ("expense lines", self.expenses),
            ("tickets", self.tickets),
            ("training sessions", self.sessions),
        ):
            if n:
                parts.append(f"{n:,} {label}")
        timing = ", ".join(f"{k} {v:.0f}s" for k, v in self.seconds.items())
        return (
            f"{', '.join(parts)}; built in {self.total_seconds:.0f}s ({timing}; "
            f"{self.cpu_seconds:.0f}s of CPU in this process)"
        )


def scaled(n: int, scale: float, floor: int = 1) -> int:
    return max(floor, round(n * scale))


# -- helpers -----------------------------------------------------------------------------
def _tables() -> dict[str, Table]:
    from inventory.core.db import Base

    return dict(Base.metadata.tables)


def _chunks(rows: Iterable[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Write ``rows`` (dicts with the same keys) in chunks; returns how many.

    SQLite: Core ``insert(table)`` executemany. PostgreSQL: COPY through the same
    connection and transaction, because psycopg 3 runs an executemany as one INSERT per
    row (SQLAlchemy batches rows into multi-row VALUES only with RETURNING for this
    driver), about ten times slower than COPY for the 2M assets and their tokens.
    """
    count = 0
    for batch in _chunks(rows):
        _write(conn, table, batch)
        count += len(batch)
    return count


def _write(conn: Connection, table: Table, batch: list[dict[str, Any]]) -> None:
    if not batch:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), batch)
        return
    from psycopg.types.json import Json

    if not conn.in_transaction():
        conn.begin()  # so that conn.commit() commits what COPY wrote
    names = list(batch[0])
    json = {n for n in names if isinstance(table.c[n].type, JSON)}
    columns = ", ".join(f'"{n}"' for n in names)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        if json:
            for row in batch:
                copy.write_row([Json(row[n]) if n in json else row[n] for n in names])
        else:
            for row in batch:
                copy.write_row([row[n] for n in names])
    cursor.close()


def _sync_sequences(conn: Connection, *names: str) -> None:
    """Ids were given explicitly: move PostgreSQL's sequences past them, so that rows the
    app adds later (imports, tickets) get fresh ids. SQLite takes max(id) + 1 by itself."""
    if conn.dialect.name != "postgresql":
        return
    for name in names:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
            )
        )


class _BulkConnection:
    """A connection for the bulk writes, put back as the app configures it on exit (the
    pooled connection later serves the timed requests).

    SQLite: a 1 GB page cache while it writes, since the indexes of 2M rows outgrow the
    default 2 MB and every insert then reads pages back. PostgreSQL: the foreign-key
    triggers are skipped for this session (``session_replication_role = replica``, when
    the role may set it), a quarter of the COPY time; the rows reference what exists by
    construction, and SQLite, which checks every foreign key, gets the same rows from the
    same seed.
    """

    def __init__(self, app: Flask) -> None:
        from inventory.extensions import db

        self.engine = db.engine
        self.conn: Connection | None = None
        self.cache_size: int | None = None
        self.replica = False

    def __enter__(self) -> Connection:
        from sqlalchemy.exc import DBAPIError

        conn = self.conn = self.engine.connect()
        if conn.dialect.name == "sqlite":
            self.cache_size = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql("PRAGMA cache_size = -1000000")
            conn.commit()
        elif conn.dialect.name == "postgresql":
            try:
                conn.exec_driver_sql("SET session_replication_role = replica")
                conn.commit()
                self.replica = True
            except DBAPIError:
                conn.rollback()
        return conn

    def __exit__(self, *exc: object) -> None:
        conn = self.conn
        assert conn is not None
        conn.rollback()  # nothing is left pending by the builders, which commit
        if self.cache_size is not None:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(self.cache_size)}")
            conn.commit()
        if self.replica:
            conn.exec_driver_sql("RESET session_replication_role")
            conn.commit()
        conn.close()


def _token(rng: random.Random) -> str:
    return base64.b32encode(rng.randbytes(10)).decode().translate(_TOKEN_TABLE)


def _spread(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, exactly (cumulative rounding)."""
    scale = sum(weights)
    out, acc, given = [], 0.0, 0
    for w in weights:
        acc += w
        upto = round(total * acc / scale)
        out.append(upto - given)
        given = upto
    return out


# -- the registry ------------------------------------------------------------------------
def _owner_of(app: Flask, n_schools: int, departement_code: str) -> tuple[int, int]:
    """A commune of the largest département made to own exactly ``n_schools`` public
    schools, by handing it schools of its neighbours through the app's own service (the
    ownership periods record the moves). Returns (collectivité id, département id)."""
    from inventory.core import audit
    from inventory.extensions import db
    from inventory.orgs.models import Collectivite, CollectiviteKind, Departement, Ecole
    from inventory.orgs.services import move_school

    with app.app_context(), audit.acting_as(audit.Actor(None, BENCH_ACTOR)):
        s = db.session
        dept_id = s.scalar(select(Departement.id).where(Departement.code == departement_code))
        counts = s.execute(
            select(Ecole.collectivite_id, func.count())
            .join(Collectivite, Collectivite.id == Ecole.collectivite_id)
            .where(
                Ecole.departement_id == dept_id,
                Collectivite.kind == CollectiviteKind.COMMUNE,
            )
            .group_by(Ecole.collectivite_id)
            .order_by(func.count().desc(), Ecole.collectivite_id)
        ).all()
        owner_id, owned = counts[0]
        owner = s.get(Collectivite, owner_id)
        since = date(TODAY.year - 1, 9, 1)
        if owned < n_schools:
            # Public schools of other owners in the same département, oldest ids first;
            # on a registry shrunk by ``scale`` the département may not hold enough, and
            # schools of the next départements complete the count.
            others = s.scalars(
                select(Ecole)
                .where(
                    Ecole.collectivite_id.is_not(None),
                    Ecole.collectivite_id != owner_id,
                    Ecole.is_private.is_(False),
                )
                .order_by((Ecole.departement_id != dept_id), Ecole.departement_id, Ecole.id)
                .limit(n_schools - owned)
            ).all()
            for ecole in others:
                move_school(s, Admin(), ecole, owner, since)
        elif owned > n_schools:
            second = s.get(Collectivite, counts[1][0])
            extra = s.scalars(
                select(Ecole).where(Ecole.collectivite_id == owner_id).order_by(Ecole.id.desc())
            ).all()
            for ecole in extra[: owned - n_schools]:
                move_school(s, Admin(), ecole, second, since)
        got = s.scalar(select(func.count()).where(Ecole.collectivite_id == owner_id))
        s.remove()
    if got != n_schools:
        raise AssertionError(f"the collectivité owns {got} schools, not {n_schools}")
    return owner_id, dept_id


# -- the catalogue -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Model:
    id: int
    category_id: int
    category: str
    price_ht: int
    serial_prefix: str
    oui: str
    networked: bool
    words: str = ""  # maker and model, as the list's text search reads them


def _catalogue(conn: Connection) -> dict[str, list[_Model]]:
    t = _tables()
    cats = {
        code: (cid, networked)
        for cid, code, networked in conn.execute(
            select(t["equipment_categories"].c[("id", "code", "networked")])
        )
    }
    makers = sorted({m for models in CATALOGUE.values() for m, *_ in models})
    existing = dict(
        conn.execute(select(t["manufacturers"].c.name, t["manufacturers"].c.id)).tuples().all()
    )
    _insert(conn, t["manufacturers"], ({"name": m} for m in makers if m not in existing))
    maker_ids = dict(
        conn.execute(select(t["manufacturers"].c.name, t["manufacturers"].c.id)).tuples().all()
    )
    rows = [
        {"manufacturer_id": maker_ids[maker], "category_id": cats[code][0], "name": name}
        for code, models in CATALOGUE.items()
        for maker, name, *_ in models
    ]
    _insert(conn, t["equipment_models"], rows)
    ids = {
        (maker_id, name): mid
        for mid, maker_id, name in conn.execute(
            select(t["equipment_models"].c[("id", "manufacturer_id", "name")])
        )
    }
    out: dict[str, list[_Model]] = {}
    for code, models in CATALOGUE.items():
        out[code] = [
            _Model(
                ids[(maker_ids[maker], name)],
                cats[code][0],
                code,
                price,
                prefix,
                oui,
                cats[code][1],
                f"{maker} {name}",
            )
            for maker, name, price, prefix, oui in models
        ]
    return out


# -- assets ------------------------------------------------------------------------------
@dataclass
class _School:
    id: int
    collectivite_id: int
    rooms: list[int]
    dept: int  # for IP addresses


def _schools(conn: Connection) -> list[_School]:
    t = _tables()
    e, c = t["ecoles"], t["classrooms"]
    rooms: dict[int, list[int]] = defaultdict(list)
    for room_id, ecole_id in conn.execute(
        select(c.c.id, c.c.ecole_id).order_by(c.c.ecole_id, c.c.position, c.c.id)
    ):
        rooms[ecole_id].append(room_id)
    return [
        _School(eid, coll_id, rooms.get(eid, []), dept % 250)
        for eid, coll_id, dept in conn.execute(
            select(e.c.id, e.c.collectivite_id, e.c.departement_id)
            .where(e.c.collectivite_id.is_not(None))
            .order_by(e.c.id)
        )
    ]


def _prefixes(conn: Connection) -> dict[int, str]:
    """Each collectivité's tag prefix, as services.tag_prefix computes it."""
    from inventory.assets.tags import tag_prefix

    t = _tables()["collectivites"]
    return {
        cid: tag_prefix(SimpleNamespace(name=name, asset_tag_prefix=prefix))  # type: ignore[arg-type]
        for cid, name, prefix in conn.execute(select(t.c.id, t.c.name, t.c.asset_tag_prefix))
    }


def _wishes(rng: random.Random, school: _School) -> list[tuple[str, int | None]]:
    """What a school's equipment looks like: (category, classroom or None for shared)."""
    r = rng.random
    items: list[tuple[str, int | None]] = []
    for room in school.rooms:
        if r() < 0.9:
            items.append((rng.choices(DISPLAY_CODES, cum_weights=DISPLAY_CUM)[0], room))
        for code, share in ROOM_ITEMS:
            if r() < share:
                items.append((code, room))
        if r() < ROOM_WIFI:
            items.append(("borne_wifi", room))
    items.append(("poste_direction", None))
    if r() < 0.7:
        items.append(("copieur", None))
    if r() < 0.6:
        items.append(("commutateur", None))
    return items


def _mobile(rng: random.Random, school: _School, wanted: int) -> list[tuple[str, int | None]]:
    """Pupils' mobile equipment up to ``wanted`` items: carts of 16 tablets or laptops
    shared by the school, and sets of tablets kept in a classroom."""
    items: list[tuple[str, int | None]] = []
    while len(items) < wanted:
        if school.rooms and rng.random() < 0.3:
            room = rng.choice(school.rooms)
            items += [("tablette", room)] * min(6, wanted - len(items))
            continue
        kind = "tablette" if rng.random() < 0.7 else "pc_eleve"
        items.append(("classe_mobile", None))
        items += [(kind, None)] * min(16, wanted - len(items))
    return items[:wanted]


def _asset_rows(
    rng: random.Random,
    schools: list[_School],
    quotas: list[int],
    catalogue: dict[str, list[_Model]],
    prefixes: dict[int, str],
    counters: dict[tuple[str, int], int],
) -> Iterator[dict[str, Any]]:
    """Every asset row, school after school; ``counters`` receives the last tag number
    used per pattern (prefix, year)."""
    from inventory.assets.models import asset_search_text

    numbers: dict[tuple[str, int], int] = defaultdict(int)  # per (prefix, year)
    serial_seq = 0
    year_start = {y: date(y, 1, 1).toordinal() for y in YEARS}
    noon = time(12, tzinfo=UTC)
    asset_id = 0
    for school, quota in zip(schools, quotas, strict=True):
        if quota <= 0:
            continue
        items = _wishes(rng, school)
        if len(items) < quota:
            items += _mobile(rng, school, quota - len(items))
        elif len(items) > quota:
            items = rng.sample(items, quota)
        models = {code: rng.choice(models) for code, models in catalogue.items()}
        main_year = rng.choices(YEARS, weights=YEAR_WEIGHTS)[0]
        supplier = rng.choice(SUPPLIERS)
        prefix = prefixes[school.collectivite_id]
        order_seq = rng.randrange(1, 9000)
        host = 10
        for code, room in items:
            asset_id += 1
            serial_seq += 1
            model = models[code]
            year = main_year if rng.random() < 0.7 else rng.choices(YEARS, YEAR_WEIGHTS)[0]
            bought = date.fromordinal(year_start[year] + rng.randrange(365))
            status = rng.choices(STATUS_NAMES, cum_weights=STATUS_CUM)[0]
            placement, ecole_id, classroom_id = (
                ("classroom", school.id, room) if room else ("school", school.id, None)
            )
            if (status in ("ordered", "delivered") and rng.random() < 0.6) or (
                status in ("retired", "lost") and rng.random() < 0.5
            ):
                placement, ecole_id, classroom_id = "storage", None, None
            key = (prefix, year)
            numbers[key] += 1
            counters[key] = numbers[key]
            created = datetime.combine(bought, noon)
            since = created + timedelta(days=21 if status != "ordered" else 0)
            mac = mac_wifi = ip = None
            if model.networked and code not in ("tablette", "pc_eleve"):
                mac = f"{model.oui}:{asset_id >> 16 & 255:02x}:{asset_id >> 8 & 255:02x}:" + (
                    f"{asset_id & 255:02x}"
                )
            if code in WIFI_MAC:
                mac_wifi = f"{model.oui}:{asset_id >> 16 & 255:02x}:{asset_id >> 8 & 255:02x}:" + (
                    f"{asset_id & 255 ^ 1:02x}"
                )
            if code in WITH_IP:
                host += 1
                ip = f"10.{school.dept}.{school.id % 250}.{host % 250 + 2}"
            warranty_years = 5 if code in ("eni", "vpi", "tni") else 3
            tag = f"{prefix}-{year}-{numbers[key]:05d}"
            serial = (
                None
                if rng.random() < 0.04
                else f"{model.serial_prefix}{year % 100:02d}{serial_seq:08d}"
            )
            yield {
                "id": asset_id,
                "tag": tag,
                "model_id": model.id,
                "category_id": model.category_id,
                "serial": serial,
                "search_text": asset_search_text(tag, serial, model.words, ""),
                "collectivite_id": school.collectivite_id,
                "ecole_id": ecole_id,
                "classroom_id": classroom_id,
                "placement": placement,
                "status": status,
                "status_since": since,
                "supplier": supplier,
                "order_number": f"BC-{year}-{order_seq:04d}",
                "invoice_number": f"F-{year}-{order_seq * 7 % 100_000:05d}",
                "purchase_date": bought,
                "price_ht_cents": model.price_ht,
                "price_ttc_cents": model.price_ht * 6 // 5,
                "warranty_end": date.fromordinal(bought.toordinal() + 365 * warranty_years + 1),
                "mac": mac,
                "mac_wifi": mac_wifi,
                "ip": ip,
                "notes": NOTES[asset_id % 3] if rng.random() < 0.02 else None,
                "created_at": created,
                "version": 1,
            }


def add_assets(
    app: Flask,
    total: int,
    *,
    seed: int = SEED,
    tokens: bool = True,
    classroom_tokens: bool = True,
) -> tuple[int, int]:
    """``total`` assets over the schools that have an owner, in proportion to their
    classrooms, with a QR token each (and each classroom's, with ``classroom_tokens``);
    the tag counters are left where the app would have them. Returns (assets, tokens)."""
    t = _tables()
    rng = random.Random(seed)
    with app.app_context(), _BulkConnection(app) as conn:
        catalogue = _catalogue(conn)
        schools = _schools(conn)
        prefixes = _prefixes(conn)
        conn.commit()
        # Each school's share grows with its classrooms (and a little for itself).
        quotas = _spread(total, [len(s.rooms) + 0.5 for s in schools])
        counters: dict[tuple[str, int], int] = {}
        rows = _asset_rows(rng, schools, quotas, catalogue, prefixes, counters)
        token_rng = random.Random(seed + 1)
        written = n_tokens = pending = 0
        for batch in _chunks(rows):
            _write(conn, t["assets"], batch)
            if tokens:
                _write(
                    conn,
                    t["scan_tokens"],
                    [
                        {
                            "id": r["id"],
                            "token": _token(token_rng),
                            "asset_id": r["id"],
                            "classroom_id": None,
                            "created_at": r["created_at"],
                            "revoked_at": None,
                        }
                        for r in batch
                    ],
                )
                n_tokens += len(batch)
            written += len(batch)
            pending += len(batch)
            if pending >= COMMIT_EVERY:
                conn.commit()
                pending = 0
                log(f"    {written:,} assets")
        if tokens and classroom_tokens:
            first = written + 1
            rooms = [r for s in schools for r in s.rooms]
            n_tokens += _insert(
                conn,
                t["scan_tokens"],
                (
                    {
                        "id": first + i,
                        "token": _token(token_rng),
                        "asset_id": None,
                        "classroom_id": room,
                        "created_at": NOW - timedelta(days=400),
                        "revoked_at": None,
                    }
                    for i, room in enumerate(rooms)
                ),
            )
        _insert(
            conn,
            t["asset_tag_counters"],
            (
                {"prefix": prefix, "year": year, "last": last}
                for (prefix, year), last in sorted(counters.items())
            ),
        )
        _sync_sequences(conn, "assets", "scan_tokens", "equipment_models", "manufacturers")
        conn.commit()
    return written, n_tokens


def add_history(app: Flask) -> None:
    """Each item's first lifecycle step, as the importer records it for an item created
    with its status (from nothing to the status, at ``status_since``): one INSERT … SELECT."""
    t = _tables()
    a, changes = t["assets"], t["asset_status_changes"]
    with app.app_context(), _BulkConnection(app) as conn:
        conn.execute(
            insert(changes).from_select(
                ["asset_id", "from_status", "to_status", "at", "actor_id", "actor_label"],
                select(
                    a.c.id,
                    literal(None),
                    a.c.status,
                    a.c.status_since,
                    literal(None),
                    literal(BENCH_ACTOR),
                ).order_by(a.c.id),
            )
        )
        conn.commit()


def add_works(app: Flask, *, seed: int = SEED) -> int:
    """Network works: wifi or cabling finished in about half of the schools (covering
    their classrooms), more planned or in progress elsewhere."""
    t = _tables()
    rng = random.Random(seed + 2)
    works: list[dict[str, Any]] = []
    covered: list[dict[str, Any]] = []
    with app.app_context(), _BulkConnection(app) as conn:
        for school in _schools(conn):
            if not school.rooms:
                continue
            r = rng.random()
            if r < 0.45:
                kind, status = rng.choice(("wifi", "cabling")), rng.choice(("done", "accepted"))
            elif r < 0.6:
                kind, status = "wifi", rng.choice(("planned", "ordered", "in_progress"))
            else:
                continue
            year = rng.choice((2021, 2022, 2023, 2024))
            start = date(year, rng.randrange(1, 13), 1)
            done = status in ("done", "accepted")
            work_id = len(works) + 1
            works.append(
                {
                    "id": work_id,
                    "collectivite_id": school.collectivite_id,
                    "ecole_id": school.id,
                    "kind": kind,
                    "title": "Couverture Wi-Fi des classes" if kind == "wifi" else "Câblage",
                    "contractor": rng.choice(("Axians", "SPIE", "Orange Business", "Eiffage")),
                    "quote_cents": 150_000 * len(school.rooms),
                    "invoice_cents": 145_000 * len(school.rooms) if done else None,
                    "planned_start": start,
                    "planned_end": start + timedelta(days=30),
                    "actual_start": start if done else None,
                    "actual_end": start + timedelta(days=35) if done else None,
                    "status": status,
                    "accepted_on": start + timedelta(days=60) if status == "accepted" else None,
                    "notes": None,
                    "version": 1,
                }
            )
            rooms = school.rooms if done or rng.random() < 0.5 else school.rooms[:1]
            covered += [{"work_id": work_id, "classroom_id": room} for room in rooms]
        _insert(conn, t["network_works"], works)
        _insert(conn, t["network_work_classrooms"], covered)
        _sync_sequences(conn, "network_works")
        conn.commit()
    return len(works)


def refresh_socle(app: Flask) -> None:
    """The classroom_socle summary of every classroom, by the app's own refresh."""
    from inventory.assets.socle import refresh

    with app.app_context(), _BulkConnection(app) as conn:
        # refresh() reads through a Session bound to the connection: begun here, the
        # transaction is the caller's and the Session's close() leaves it alone, with any
        # write already made in it (a Session that begins it itself rolls it back).
        conn.begin()
        refresh(conn)
        conn.commit()


# -- grants ------------------------------------------------------------------------------
def add_grants(app: Flask, dossiers: int, expenses: int, *, seed: int = SEED) -> tuple[int, int]:
    """Dossiers of the shipped schemes (installed by the app's own service), each covering
    schools of one collectivité, with invoice lines split over those schools and linked to
    the items they paid for, and the payments received. Returns (dossiers, expenses)."""
    from inventory.extensions import db
    from inventory.grants.models import FundingScheme
    from inventory.grants.schemes import install_presets

    t = _tables()
    rng = random.Random(seed + 3)
    with app.app_context():
        install_presets(db.session)
        schemes = [
            (s.id, s.code, s.version, s.rules)
            for s in db.session.scalars(select(FundingScheme).order_by(FundingScheme.id))
        ]
        db.session.remove()
    snee = next(s for s in schemes if s[1] == "snee-2021")
    label = next(s for s in schemes if s[1] != "snee-2021")
    statuses = (
        ("closed", 30),
        ("paid", 20),
        ("partially_paid", 15),
        ("signed", 15),
        ("approved", 5),
        ("submitted", 5),
        ("draft", 5),
        ("rejected", 5),
    )
    e, c = t["ecoles"], t["classrooms"]
    with app.app_context(), _BulkConnection(app) as conn:
        by_coll: dict[int, list[int]] = defaultdict(list)
        for ecole_id, coll_id in conn.execute(
            select(e.c.id, e.c.collectivite_id)
            .where(e.c.collectivite_id.is_not(None))
            .order_by(e.c.id)
        ):
            by_coll[coll_id].append(ecole_id)
        rooms = dict(
            conn.execute(select(c.c.ecole_id, func.count()).group_by(c.c.ecole_id)).tuples().all()
        )
        colls = sorted(by_coll)
        # Mostly one SNEE dossier per collectivité; some also have a Label dossier.
        picked = rng.sample(colls, min(len(colls), dossiers))
        plan = [(coll, snee) for coll in picked]
        while len(plan) < dossiers:
            plan.append((rng.choice(colls), label))
        plan = plan[:dossiers]
        for i in range(len(plan) // 7):
            plan[i * 7] = (plan[i * 7][0], label)
        covers = {n: by_coll[coll][:12] for n, (coll, _s) in enumerate(plan)}
        per_dossier = _spread(expenses, [len(covers[n]) + 4 for n in range(len(plan))])

        # Items the equipment invoices may pay for: those of the covered schools.
        wanted = {ecole for schools in covers.values() for ecole in schools}
        items: dict[int, list[tuple[int, int]]] = defaultdict(list)
        a = t["assets"]
        wanted_list = sorted(wanted)
        for i in range(0, len(wanted_list), 900):
            for asset_id, ecole_id, price in conn.execute(
                select(a.c.id, a.c.ecole_id, a.c.price_ttc_cents)
                .where(a.c.ecole_id.in_(wanted_list[i : i + 900]))
                .order_by(a.c.id)
            ):
                items[ecole_id].append((asset_id, price or 0))
        for ecole_id in items:
            rng.shuffle(items[ecole_id])

        d_rows, s_rows, x_rows, al_rows, l_rows, p_rows = [], [], [], [], [], []
        expense_id = 0
        for n, (coll, scheme) in enumerate(plan):
            dossier_id = n + 1
            status = rng.choices([s for s, _ in statuses], [w for _, w in statuses])[0]
            scheme_id, code, version, rules = scheme
            volets = [v["code"] for v in rules["volets"]]
            year = 2021 if code == "snee-2021" else 2020
            decided = date(year, rng.randrange(3, 13), rng.randrange(1, 28))
            signed = decided + timedelta(days=rng.randrange(15, 90))
            schools = covers[n]
            total_ttc = 0
            for ecole_id in schools:
                s_rows.append(
                    {
                        "dossier_id": dossier_id,
                        "ecole_id": ecole_id,
                        "classes": rooms.get(ecole_id, 0),
                        "pupils": 24 * rooms.get(ecole_id, 0),
                    }
                )
            for k in range(per_dossier[n]):
                expense_id += 1
                volet = volets[0] if k % 5 or len(volets) == 1 else rng.choice(volets[1:])
                ecole_id = schools[k % len(schools)]
                links: list[tuple[int, int]] = []
                if volet == "equipement":
                    pool = items.get(ecole_id, [])
                    for _ in range(rng.randrange(1, 7)):
                        if pool:
                            links.append(pool.pop())
                linked = sum(p for _, p in links)
                ttc = linked + rng.randrange(0, 50_000) if links else rng.randrange(5_000, 400_000)
                ttc = max(ttc, 100)
                ht = ttc * 5 // 6
                total_ttc += ttc
                x_rows.append(
                    {
                        "id": expense_id,
                        "dossier_id": dossier_id,
                        "volet": volet,
                        "supplier": rng.choice(SUPPLIERS),
                        "invoice_number": f"F{year}-{expense_id:06d}",
                        "invoice_date": signed + timedelta(days=rng.randrange(10, 400)),
                        "description": None,
                        "amount_ht_cents": ht,
                        "amount_ttc_cents": ttc,
                        "stored_name": None,
                        "filename": None,
                        "version": 1,
                    }
                )
                # Equipment lines concern the school of their items; the others are
                # split evenly over every school of the dossier.
                split = [ecole_id] if volet == "equipement" else schools
                shares_ht = _spread(ht, [1] * len(split))
                shares_ttc = _spread(ttc, [1] * len(split))
                for sid, sh, st in zip(split, shares_ht, shares_ttc, strict=True):
                    al_rows.append(
                        {
                            "expense_id": expense_id,
                            "ecole_id": sid,
                            "amount_ht_cents": sh,
                            "amount_ttc_cents": st,
                        }
                    )
                for asset_id, price in links:
                    if price > 0:
                        l_rows.append(
                            {
                                "expense_id": expense_id,
                                "asset_id": asset_id,
                                "work_id": None,
                                "amount_cents": price,
                            }
                        )
            aid = total_ttc * 7 // 10
            d_rows.append(
                {
                    "id": dossier_id,
                    "collectivite_id": coll,
                    "scheme_id": scheme_id,
                    "scheme_version": version,
                    "rules": rules,
                    "reference": f"{code.upper()[:4]}-{coll:05d}-{dossier_id:04d}",
                    "title": f"Socle numérique {year} — {len(schools)} école(s)",
                    "status": status,
                    "convention_max_cents": aid
                    if status not in ("draft", "submitted", "rejected")
                    else None,
                    "decision_on": decided if status not in ("draft", "submitted") else None,
                    "convention_signed_on": signed
                    if status in ("signed", "partially_paid", "paid", "closed")
                    else None,
                    "spending_deadline": date(year + 2, 12, 31),
                    "planned_cents": {volets[0]: total_ttc},
                    "created_at": datetime.combine(
                        decided - timedelta(days=60), time(9, tzinfo=UTC)
                    ),
                    "version": 1,
                }
            )
            if status in ("partially_paid", "paid", "closed", "signed") and aid:
                advance = aid * 3 // 10
                p_rows.append(
                    {
                        "dossier_id": dossier_id,
                        "kind": "advance",
                        "requested_on": signed + timedelta(days=10),
                        "requested_cents": advance,
                        "received_on": signed + timedelta(days=60) if status != "signed" else None,
                        "received_cents": advance if status != "signed" else None,
                        "reference": None,
                    }
                )
                if status in ("paid", "closed"):
                    p_rows.append(
                        {
                            "dossier_id": dossier_id,
                            "kind": "balance",
                            "requested_on": signed + timedelta(days=400),
                            "requested_cents": aid - advance,
                            "received_on": signed + timedelta(days=470),
                            "received_cents": aid - advance,
                            "reference": None,
                        }
                    )
        _insert(conn, t["dossiers"], d_rows)
        _insert(conn, t["dossier_schools"], s_rows)
        _insert(conn, t["expenses"], x_rows)
        _insert(conn, t["expense_allocations"], al_rows)
        _insert(conn, t["funding_links"], l_rows)
        _insert(conn, t["payments"], p_rows)
        _sync_sequences(conn, "dossiers", "expenses")
        conn.commit()
    return len(d_rows), len(x_rows)


# -- helpdesk ----------------------------------------------------------------------------
TICKET_STATUSES = (
    ("closed", 58),
    ("resolved", 20),
    ("new", 5),
    ("acknowledged", 4),
    ("in_progress", 6),
    ("waiting", 5),
    ("reopened", 2),
)
OPEN = {"new", "acknowledged", "in_progress", "waiting", "reopened"}
DESCRIPTIONS = (
    "L'écran reste noir depuis ce matin.",
    "Le stylet ne répond plus sur la partie droite du tableau.",
    "Pas de son quand on lance une vidéo.",
    "La tablette ne charge plus, même branchée toute la nuit.",
    "Impossible de se connecter au Wi-Fi dans la classe.",
    "L'ordinateur redémarre tout seul pendant les séances.",
    "Le vidéoprojecteur affiche une image jaune.",
    "La prise réseau près du bureau ne fonctionne plus.",
)


def add_tickets(app: Flask, total: int, *, seed: int = SEED) -> int:
    """Tickets on items (nine in ten) and on rooms, over three years: most closed, the
    open blocking ones on items under repair (as the helpdesk keeps them), with the
    staff's resolution message of those resolved."""
    t = _tables()
    rng = random.Random(seed + 4)
    a, c, types = t["assets"], t["classrooms"], t["problem_types"]
    with app.app_context(), _BulkConnection(app) as conn:
        kinds = conn.execute(
            select(types.c.id, types.c.category_codes, types.c.for_rooms, types.c.blocking)
        ).all()
        item_types = [k for k in kinds if not k.for_rooms]
        room_types = [k for k in kinds if k.for_rooms]
        codes = dict(
            conn.execute(select(t["equipment_categories"].c[("id", "code")])).tuples().all()
        )
        top = conn.execute(select(func.max(a.c.id))).scalar() or 0
        n_items = total * 9 // 10
        broken = [
            tuple(r)
            for r in conn.execute(
                select(a.c.id, a.c.ecole_id, a.c.classroom_id, a.c.collectivite_id, a.c.category_id)
                .where(a.c.status == "under_repair", a.c.ecole_id.is_not(None))
                .order_by(a.c.id)
            )
        ]
        sample = sorted(rng.sample(range(1, top + 1), min(top, n_items * 2)))
        others: list[tuple[int, ...]] = []
        for i in range(0, len(sample), 900):
            others += [
                tuple(r)
                for r in conn.execute(
                    select(
                        a.c.id, a.c.ecole_id, a.c.classroom_id, a.c.collectivite_id, a.c.category_id
                    ).where(
                        a.c.id.in_(sample[i : i + 900]),
                        a.c.ecole_id.is_not(None),
                        a.c.status == "in_service",
                    )
                )
            ]
        rng.shuffle(others)
        top_room = conn.execute(select(func.max(c.c.id))).scalar() or 0
        room_sample = sorted(rng.sample(range(1, top_room + 1), min(top_room, total)))
        rooms: list[tuple[int, ...]] = []
        e = t["ecoles"]
        for i in range(0, len(room_sample), 900):
            rooms += [
                tuple(r)
                for r in conn.execute(
                    select(c.c.id, c.c.ecole_id, e.c.collectivite_id)
                    .join(e, e.c.id == c.c.ecole_id)
                    .where(c.c.id.in_(room_sample[i : i + 900]), e.c.collectivite_id.is_not(None))
                )
            ]
        status_names = [s for s, _ in TICKET_STATUSES]
        status_weights = [w for _, w in TICKET_STATUSES]
        tickets, messages = [], []
        for n in range(total):
            status = rng.choices(status_names, status_weights)[0]
            on_room = n >= n_items and rooms
            if on_room:
                room_id, ecole_id, coll_id = rooms[n % len(rooms)]
                asset_id, ptype = None, rng.choice(room_types)
            else:
                pool = broken if status in OPEN and broken and rng.random() < 0.8 else others
                asset_id, ecole_id, room_id, coll_id, cat_id = pool[n % len(pool)]
                code = codes[cat_id]
                fits = [
                    k
                    for k in item_types
                    if not k.category_codes or code in k.category_codes.split(",")
                ]
                ptype = rng.choice(fits)
            created = NOW - timedelta(minutes=rng.randrange(60, 3 * 365 * 24 * 60))
            if status in OPEN:
                created = NOW - timedelta(minutes=rng.randrange(30, 60 * 24 * 60))
            answered = created + timedelta(hours=rng.randrange(1, 72))
            resolved = answered + timedelta(hours=rng.randrange(1, 24 * 20))
            done = status in ("resolved", "closed")
            ticket_id = n + 1
            tickets.append(
                {
                    "id": ticket_id,
                    "asset_id": asset_id,
                    "classroom_id": room_id,
                    "ecole_id": ecole_id,
                    "collectivite_id": coll_id,
                    "problem_type_id": ptype.id,
                    "description": rng.choice(DESCRIPTIONS),
                    "reporter_name": "Enseignant·e" if rng.random() < 0.6 else None,
                    "reporter_email": f"prof{n}@ac-bench.fr" if rng.random() < 0.3 else None,
                    "follow_token": base64.urlsafe_b64encode(rng.randbytes(24)).decode(),
                    "status": status,
                    "blocking": bool(ptype.blocking),
                    "assignee_id": None,
                    "reports": 1 if rng.random() < 0.9 else 2,
                    "resolution": "Réparé sur place." if done else None,
                    "created_at": created,
                    "first_response_at": answered if status != "new" and answered < NOW else None,
                    "resolved_at": resolved if done else None,
                    "closed_at": resolved + timedelta(days=7) if status == "closed" else None,
                    "version": 1,
                }
            )
            if done:
                messages.append(
                    {
                        "ticket_id": ticket_id,
                        "at": resolved,
                        "author_id": None,
                        "author_label": "Service informatique",
                        "internal": False,
                        "body": "Intervention faite, le matériel fonctionne de nouveau.",
                        "status_to": "resolved",
                    }
                )
        _insert(conn, t["tickets"], tickets)
        _insert(conn, t["ticket_messages"], messages)
        # Who gave an address follows the ticket, as the public form makes it.
        _insert(
            conn,
            t["ticket_followers"],
            [
                {"ticket_id": r["id"], "email": r["reporter_email"], "since": r["created_at"]}
                for r in tickets
                if r["reporter_email"]
            ],
        )
        _sync_sequences(conn, "tickets")
        conn.commit()
    return len(tickets)


# -- training ----------------------------------------------------------------------------
def add_training(app: Flask, total: int, *, seed: int = SEED) -> int:
    """Training sessions for one to three schools of a collectivité, held (most of those
    past), cancelled or planned, with their topics, equipment categories and trainer; a
    part is funded by an 'accompagnement' expense line when dossiers exist."""
    t = _tables()
    rng = random.Random(seed + 5)
    e = t["ecoles"]
    with app.app_context(), _BulkConnection(app) as conn:
        by_coll: dict[int, list[int]] = defaultdict(list)
        for ecole_id, coll_id in conn.execute(
            select(e.c.id, e.c.collectivite_id)
            .where(e.c.collectivite_id.is_not(None))
            .order_by(e.c.id)
        ):
            by_coll[coll_id].append(ecole_id)
        colls = sorted(by_coll)
        topics = list(conn.execute(select(t["training_topics"].c.id)).scalars())
        cats = dict(
            conn.execute(select(t["equipment_categories"].c[("code", "id")])).tuples().all()
        )
        displays = [cats[c] for c in ("eni", "vpi", "tni", "tablette", "poste_enseignant")]
        x, d = t["expenses"], t["dossiers"]
        funded: dict[int, list[int]] = defaultdict(list)
        for expense_id, coll_id in conn.execute(
            select(x.c.id, d.c.collectivite_id)
            .join(d, d.c.id == x.c.dossier_id)
            .where(x.c.volet == "accompagnement")
        ):
            funded[coll_id].append(expense_id)
        s_rows, sch_rows, top_rows, cat_rows, tr_rows = [], [], [], [], []
        start = datetime(2021, 9, 1, 7, tzinfo=UTC)
        span = int((NOW + timedelta(days=180) - start).total_seconds() // 3600)
        for n in range(total):
            session_id = n + 1
            coll = rng.choice(colls)
            schools = rng.sample(by_coll[coll], min(len(by_coll[coll]), rng.choice((1, 1, 2, 3))))
            when = start + timedelta(hours=rng.randrange(span))
            when = when.replace(hour=rng.choice((8, 9, 13, 14, 16)))
            past = when < NOW
            status = ("held" if rng.random() < 0.9 else "cancelled") if past else "planned"
            held = status == "held"
            expense = rng.choice(funded[coll]) if funded.get(coll) and rng.random() < 0.5 else None
            s_rows.append(
                {
                    "id": session_id,
                    "title": rng.choice(
                        (
                            "Prise en main de l'ENI",
                            "Usages pédagogiques des tablettes",
                            "Le visualiseur en classe",
                            "ENT et ressources numériques",
                        )
                    ),
                    "starts_at": when,
                    "duration_minutes": rng.choice((60, 90, 120, 180)),
                    "mode": "on_site" if rng.random() < 0.85 else "remote",
                    "format": rng.choice(("workshop", "demonstration", "remote_follow_up")),
                    "status": status,
                    "place": "Salle polyvalente" if rng.random() < 0.5 else None,
                    "teachers": rng.randrange(2, 15) if held else 0,
                    "directors": rng.randrange(0, 2) if held else 0,
                    "municipal_staff": rng.randrange(0, 2) if held else 0,
                    "satisfaction": rng.choice((3, 4, 4, 5, 5)) if held else None,
                    "feedback": None,
                    "notes": None,
                    "expense_id": expense,
                    "created_by_id": None,
                    "created_at": when - timedelta(days=rng.randrange(7, 60)),
                    "version": 1,
                }
            )
            sch_rows += [{"session_id": session_id, "ecole_id": s} for s in schools]
            top_rows += [
                {"session_id": session_id, "topic_id": tp}
                for tp in rng.sample(topics, min(len(topics), rng.randrange(1, 4)))
            ]
            cat_rows += [
                {"session_id": session_id, "category_id": cid}
                for cid in rng.sample(displays, rng.randrange(1, 3))
            ]
            tr_rows.append(
                {
                    "session_id": session_id,
                    "user_id": None,
                    "name": rng.choice(("Claire Martin", "Karim Benali", "Sophie Laurent")),
                    "organisation": "ERUN de circonscription",
                }
            )
        _insert(conn, t["training_sessions"], s_rows)
        _insert(conn, t["training_session_schools"], sch_rows)
        _insert(conn, t["training_session_topics"], top_rows)
        _insert(conn, t["training_session_categories"], cat_rows)
        _insert(conn, t["training_trainers"], tr_rows)
        _sync_sequences(conn, "training_sessions")
        conn.commit()
    return len(s_rows)


# -- everything --------------------------------------------------------------------------
def build(
    app: Flask,
    *,
    scale: float = 1.0,
    assets: bool = True,
    tokens: bool = True,
    history: bool = True,
    works: bool = True,
    grants: bool = False,
    tickets: bool = False,
    training: bool = False,
    seed: int = SEED,
) -> National:
    """National-scale data in ``app``'s fresh database; ``scale`` shrinks every count
    (the registry to 1,000 schools at least, as bench_registry does)."""
    seconds: dict[str, float] = {}
    cpu_start = clock.process_time()
    n_schools = max(bench_registry.SMALL_SCHOOLS, round(SCHOOLS * scale))
    n_rooms = round(CLASSROOMS * n_schools / SCHOOLS)
    log(f"  national data at scale {scale:g}: {n_schools:,} schools, {n_rooms:,} classrooms")
    with stopwatch() as elapsed:
        data, rate = bench_registry.build(app, n_schools, n_rooms)
        owner, dept = _owner_of(app, OWNER_SCHOOLS, data.biggest_departement)
    seconds["registry"] = elapsed()
    out = National(data, rate, n_schools, n_rooms, owner, dept, seconds=seconds)
    if assets:
        n_assets = scaled(ASSETS, scale)
        with stopwatch() as elapsed:
            out.assets, out.scan_tokens = add_assets(app, n_assets, seed=seed, tokens=tokens)
        seconds["assets"] = elapsed()
        log(f"  {out.assets:,} assets, {out.scan_tokens:,} scan tokens in {elapsed():.0f}s")
        if history:
            with stopwatch() as elapsed:
                add_history(app)
            seconds["history"] = elapsed()
            log(f"  first lifecycle step of each asset in {elapsed():.0f}s")
    if works:
        with stopwatch() as elapsed:
            out.works = add_works(app, seed=seed)
        seconds["works"] = elapsed()
    with stopwatch() as elapsed:
        refresh_socle(app)
    seconds["socle summary"] = elapsed()
    log(f"  classroom_socle refreshed in {elapsed():.0f}s")
    if grants:
        with stopwatch() as elapsed:
            out.dossiers, out.expenses = add_grants(
                app, scaled(DOSSIERS, scale), scaled(EXPENSES, scale), seed=seed
            )
        seconds["grants"] = elapsed()
        log(f"  {out.dossiers:,} dossiers, {out.expenses:,} expense lines in {elapsed():.0f}s")
    if tickets:
        with stopwatch() as elapsed:
            out.tickets = add_tickets(app, scaled(TICKETS, scale), seed=seed)
        seconds["tickets"] = elapsed()
        log(f"  {out.tickets:,} tickets in {elapsed():.0f}s")
    if training:
        with stopwatch() as elapsed:
            out.sessions = add_training(app, scaled(TRAINING_SESSIONS, scale), seed=seed)
        seconds["training"] = elapsed()
        log(f"  {out.sessions:,} training sessions in {elapsed():.0f}s")
    with stopwatch() as elapsed:
        analyze(app)
    seconds["analyze"] = elapsed()
    out.cpu_seconds = clock.process_time() - cpu_start
    log(f"  national data: {out.summary()}")
    return out
