"""The demo collectivité's equipment: a catalogue of real-looking models, items in most
classrooms and in every equipped school (through :func:`record_items`, the one way items
are created), the Wi-Fi works that connect the rooms, and a QR token for every item and
room. A few target classrooms are left short of the socle, and two schools unequipped, so
that the missing-socle lists have something to show."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.assets.catalogue import category_by_code, get_or_create_model
from inventory.assets.lifecycle import AssetFields, NewItem, record_items
from inventory.assets.models import AssetStatus, EquipmentModel, Placement, WorkKind, WorkStatus
from inventory.assets.socle import TARGET_LEVELS
from inventory.assets.works import WorkFields, save_work
from inventory.auth.models import User
from inventory.labels.tokens import active_tokens
from inventory.orgs.models import Classroom, Collectivite, Ecole, SchoolNature

from .clock import SET_UP, on

SEED = 2021
# (category, manufacturer, model, price excluding VAT in cents). VAT 20 %.
CATALOGUE = {
    "eni": ("eni", "Speechi", "Écran interactif 75 pouces 4K", 1_800_00),
    "vpi": ("vpi", "Epson", "EB-735Fi", 1_350_00),
    "tni": ("tni", "Promethean", "ActivBoard 10 Touch 88", 1_100_00),
    "vp": ("vp", "Epson", "EB-W06", 450_00),
    "poste": ("poste_enseignant", "Lenovo", "ThinkPad E14 Gen 4", 600_00),
    "visualiseur": ("visualiseur", "IPEVO", "V4K", 100_00),
    "captation": ("captation", "Logitech", "ConferenceCam Connect", 350_00),
    "direction": ("poste_direction", "Dell", "OptiPlex 7010", 650_00),
    "copieur": ("copieur", "Ricoh", "IM C3000", 2_900_00),
    "borne": ("borne_wifi", "Ubiquiti", "UniFi U6 Lite", 110_00),
    "chariot": ("classe_mobile", "Bretford", "Chariot de recharge 16 tablettes", 1_200_00),
    "tablette": ("tablette", "Apple", "iPad 10,2 pouces (9e génération)", 330_00),
}
DISPLAYS = ("eni", "eni", "vpi", "tni")  # most rooms get a flat screen
TABLETS_PER_CART = 16
# Dates of the programme: the invoice of the dossier, the later orders.
DOSSIER_PURCHASE = date(2021, 10, 12)
LATER_PURCHASE = date(2022, 3, 15)
WORKS_DONE = (date(2021, 8, 23), date(2021, 8, 27))
LABELS_PRINTED = date(2022, 5, 2)
MISSING_ROOMS = 6  # target classrooms left short of one requirement
UNEQUIPPED_SCHOOLS = 2  # schools (one maternelle, one elementary) with nothing yet


@dataclass
class Equipment:
    """What the equipment step made, for the helpdesk, the grants and the training."""

    schools: list[Ecole]  # the equipped schools, by UAI
    unequipped: list[Ecole]
    missing_rooms: list[int]
    dossier_schools: list[Ecole] = field(default_factory=list)
    asset_ids: list[int] = field(default_factory=list)
    # per school id: {"display": [ids], "poste": [ids], "tablette": [ids], ...}
    by_school: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    works: dict[int, int] = field(default_factory=dict)  # school id → works id
    work_costs: dict[int, int] = field(default_factory=dict)  # school id → invoiced cents
    prices: dict[int, int] = field(default_factory=dict)  # asset id → price TTC cents


def is_target(room: Classroom) -> bool:
    return any(level in TARGET_LEVELS for level in room.levels.split(","))


def _models(session: Session) -> dict[str, EquipmentModel]:
    out = {}
    for key, (code, maker, name, _) in CATALOGUE.items():
        category = category_by_code(session, code)
        assert category is not None, code
        out[key] = get_or_create_model(session, maker, name, category)
    return out


def load_equipment(
    session: Session, user: User, town: Collectivite, circo_id: int
) -> Iterator[str | Equipment]:
    rng = random.Random(SEED)
    with on(SET_UP, 10):
        models = _models(session)
    schools = list(
        session.scalars(select(Ecole).where(Ecole.collectivite_id == town.id).order_by(Ecole.uai))
    )
    # The last maternelle and the last elementary school, by UAI, wait for their equipment.
    last = {e.nature: e for e in schools}
    unequipped = [
        e
        for e in (last.get(SchoolNature.MATERNELLE), last.get(SchoolNature.ELEMENTAIRE))
        if e is not None
    ][:UNEQUIPPED_SCHOOLS]
    equipped = [e for e in schools if e not in unequipped]
    rooms_of = {e.id: sorted(e.classrooms, key=lambda r: (r.position, r.id)) for e in equipped}
    targets = [r for e in equipped for r in rooms_of[e.id] if is_target(r)]
    missing = rng.sample(targets, min(MISSING_ROOMS, len(targets)))
    # Which requirement each of them lacks: its display, its captation, its connection.
    lacks = {r.id: ("display", "captation", "connection")[i % 3] for i, r in enumerate(missing)}
    result = Equipment(equipped, unequipped, [r.id for r in missing])
    # The first two elementary schools of the demo circonscription (so that every demo
    # role sees its money) were equipped with the SNEE 2021 dossier, the others later.
    result.dossier_schools = [
        e
        for e in equipped
        if e.nature is not SchoolNature.MATERNELLE and e.circonscription_id == circo_id
    ][:2]
    items: list[tuple[int, str, NewItem]] = []
    serial = 0

    def add(ecole: Ecole, kind: str, key: str, room: Classroom | None, when: date) -> None:
        nonlocal serial
        serial += 1
        price_ht = CATALOGUE[key][3]
        model = models[key]
        values = AssetFields(
            serial=f"{model.manufacturer.name[:3].upper()}{SEED}{serial:05d}",
            supplier="UGAP",
            order_number=f"BC-{when.year}-{ecole.uai[-4:]}",
            invoice_number="FA-2021-1187" if when == DOSSIER_PURCHASE else None,
            purchase_date=when,
            price_ht_cents=price_ht,
            price_ttc_cents=price_ht * 6 // 5,
            warranty_end=date(when.year + 3, when.month, when.day),
        ).check()
        item = NewItem(
            collectivite=town,
            model=model,
            placement=Placement.CLASSROOM if room is not None else Placement.SCHOOL,
            status=AssetStatus.IN_SERVICE,
            values=values.values(),
            ecole_id=ecole.id,
            classroom_id=room.id if room is not None else None,
        )
        items.append((ecole.id, kind, item))

    for n, ecole in enumerate(equipped):
        # The first schools were equipped with the SNEE 2021 dossier, the others a year later.
        when = DOSSIER_PURCHASE if ecole in result.dossier_schools else LATER_PURCHASE
        for i, room in enumerate(rooms_of[ecole.id]):
            lack = lacks.get(room.id)
            if not is_target(room):
                add(ecole, "vp", "vp", room, when)
                add(ecole, "poste", "poste", room, when)
                continue
            if lack != "display":
                add(ecole, "display", DISPLAYS[(n + i) % len(DISPLAYS)], room, when)
            add(ecole, "poste", "poste", room, when)
            if lack != "captation":
                add(ecole, "captation", "captation", room, when)
            if i % 2 == 0:
                add(ecole, "visualiseur", "visualiseur", room, when)
        add(ecole, "direction", "direction", None, when)
        add(ecole, "copieur", "copieur", None, when)
        for _ in range(2):
            add(ecole, "borne", "borne", None, when)
        if ecole.nature is not SchoolNature.MATERNELLE:
            add(ecole, "chariot", "chariot", None, when)
            for _ in range(TABLETS_PER_CART):
                add(ecole, "tablette", "tablette", None, when)
    # Each order recorded on its delivery day, in service since.
    for when in sorted({item.values["purchase_date"] for _, _, item in items}):
        with on(when, 9):
            record_items(
                session, [item for _, _, item in items if item.values["purchase_date"] == when]
            )
    for ecole_id, kind, item in items:
        assert item.id is not None
        result.asset_ids.append(item.id)
        result.by_school.setdefault(ecole_id, {}).setdefault(kind, []).append(item.id)
        result.prices[item.id] = item.values["price_ttc_cents"]
    # Four spare screens in the collectivité's store, delivered, not yet installed.
    spares = [
        NewItem(
            collectivite=town,
            model=models["eni"],
            placement=Placement.STORAGE,
            status=AssetStatus.DELIVERED,
            values=AssetFields(
                serial=f"SPE{SEED}S{k:04d}", supplier="UGAP", purchase_date=LATER_PURCHASE
            )
            .check()
            .values(),
        )
        for k in range(1, 5)
    ]
    with on(LATER_PURCHASE, 9):
        record_items(session, spares)
    yield (
        f"Equipment: {len(items) + len(spares)} items in {len(equipped)} of {len(schools)} "
        f"schools ({len(targets)} target classrooms, {len(missing)} of them left short of the "
        f"socle; {', '.join(e.name for e in unequipped)} not equipped yet)"
    )
    for n, ecole in enumerate(equipped):
        rooms = [r.id for r in rooms_of[ecole.id] if lacks.get(r.id) != "connection"]
        with on(WORKS_DONE[1], 17):
            work = save_work(
                session,
                user,
                None,
                ecole=ecole,
                fields=WorkFields(
                    kind=WorkKind.WIFI,
                    title=f"Câblage et Wi-Fi des classes — {ecole.name}",
                    status=WorkStatus.ACCEPTED if n % 3 else WorkStatus.DONE,
                    contractor="Val-de-Marne Réseaux",
                    quote_cents=3_000_00 + 400_00 * len(rooms),
                    invoice_cents=3_000_00 + 400_00 * len(rooms),
                    planned_start=WORKS_DONE[0],
                    planned_end=WORKS_DONE[1],
                    actual_start=WORKS_DONE[0],
                    actual_end=WORKS_DONE[1],
                    accepted_on=date(2021, 9, 3) if n % 3 else None,
                ),
                classroom_ids=rooms,
            )
        result.works[ecole.id] = work.id
        result.work_costs[ecole.id] = work.invoice_cents or 0
    yield f"Network works: {len(result.works)} schools cabled and connected"
    room_ids = [r.id for e in schools for r in e.classrooms]
    with on(LABELS_PRINTED, 10):
        tokens = active_tokens(session, asset_ids=result.asset_ids, classroom_ids=room_ids)
        session.commit()
    yield f"QR tokens: {len(tokens)} (items and classrooms)"
    yield result
