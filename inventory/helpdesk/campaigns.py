"""Inventory campaigns: staff go room by room through a school, scan what they find, and
get what is found, misplaced, missing or unknown; a misplaced item can be recorded where
it was found."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inventory.assets import lifecycle
from inventory.assets.models import Asset, AssetStatus, EquipmentModel
from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.policy import Action, Subject
from inventory.helpdesk.models import CampaignScan, CampaignStatus, InventoryCampaign
from inventory.helpdesk.rules import HelpdeskError
from inventory.labels import tokens
from inventory.orgs.models import Classroom, Ecole

EXPECTED_STATUSES = (
    AssetStatus.DELIVERED,
    AssetStatus.INSTALLED,
    AssetStatus.IN_SERVICE,
    AssetStatus.UNDER_REPAIR,
)


def campaigns(session: Session, user: Subject, limit: int = 200) -> list[InventoryCampaign]:
    stmt = (
        select(InventoryCampaign)
        .options(selectinload(InventoryCampaign.ecole).selectinload(Ecole.commune))
        .order_by(InventoryCampaign.id.desc())
        .limit(limit)
    )
    return list(session.scalars(policy.visible(user, stmt, InventoryCampaign)))


def start_campaign(session: Session, user: Subject, ecole: Ecole) -> InventoryCampaign:
    """A new campaign for the school, or the one already open."""
    if not policy.can(user, Action.EDIT, ecole, session):
        raise policy.Denied()
    if ecole.collectivite_id is None:
        raise HelpdeskError(_l("This school has no owning collectivité."), field="ecole")
    current = session.scalar(
        select(InventoryCampaign).where(
            InventoryCampaign.ecole_id == ecole.id,
            InventoryCampaign.status == CampaignStatus.OPEN,
        )
    )
    if current is not None:
        return current
    campaign = InventoryCampaign(
        ecole_id=ecole.id,
        collectivite_id=ecole.collectivite_id,
        started_by_id=getattr(user, "id", None),
        status=CampaignStatus.OPEN,
    )
    session.add(campaign)
    session.commit()
    return campaign


def _check_campaign(session: Session, user: Subject, campaign: InventoryCampaign) -> None:
    if not policy.can(user, Action.EDIT, campaign, session):
        raise policy.Denied()


def _room_of(session: Session, campaign: InventoryCampaign, classroom_id: int | None) -> Classroom:
    room = session.get(Classroom, classroom_id) if classroom_id else None
    if room is None or room.ecole_id != campaign.ecole_id:
        raise HelpdeskError(_l("Choose a classroom of this school."), field="classroom")
    return room


def visit_room(
    session: Session, user: Subject, campaign: InventoryCampaign, classroom_id: int | None
) -> Classroom:
    """Start checking a room: from now on, what it should hold and is not scanned is missing."""
    _check_campaign(session, user, campaign)
    if campaign.status is not CampaignStatus.OPEN:
        raise HelpdeskError(_l("This campaign is closed."), field="classroom")
    room = _room_of(session, campaign, classroom_id)
    seen = session.scalar(
        select(CampaignScan.id)
        .where(CampaignScan.campaign_id == campaign.id, CampaignScan.classroom_id == room.id)
        .limit(1)
    )
    if seen is None:
        session.add(
            CampaignScan(campaign_id=campaign.id, classroom_id=room.id, asset_id=None, raw="")
        )
        session.commit()
    return room


@dataclass
class ScanOutcome:
    kind: str  # found | misplaced | unknown | room
    raw: str
    asset: Asset | None = None
    room: Classroom | None = None
    again: bool = False


def identify(session: Session, user: Subject, raw: str) -> tuple[Asset | None, Classroom | None]:
    """The item (or room) a typed tag, a label code or a scanned label URL designates,
    among those the user may see."""
    token = tokens.find(session, raw)
    if token is not None:
        if token.asset_id:
            stmt = select(Asset).where(Asset.id == token.asset_id)
            return session.scalar(policy.visible(user, stmt, Asset)), None
        if token.classroom_id:
            rooms = select(Classroom).where(Classroom.id == token.classroom_id)
            return None, session.scalar(policy.visible(user, rooms, Classroom))
    stmt = select(Asset).where(Asset.tag == raw.strip().upper())
    return session.scalar(policy.visible(user, stmt, Asset)), None


def _placed(asset: Asset, scanned_room_id: int | None, campaign: InventoryCampaign) -> bool:
    if asset.classroom_id is not None:
        return asset.classroom_id == scanned_room_id
    # An item shared by the school (no room of its own) is where it should be anywhere in it.
    return asset.ecole_id == campaign.ecole_id


def record_scan(
    session: Session,
    user: Subject,
    campaign: InventoryCampaign,
    classroom_id: int | None,
    raw: str,
) -> ScanOutcome:
    _check_campaign(session, user, campaign)
    if campaign.status is not CampaignStatus.OPEN:
        raise HelpdeskError(_l("This campaign is closed."), field="code")
    room = _room_of(session, campaign, classroom_id)
    raw = (raw or "").strip()[:200]
    if not raw:
        raise HelpdeskError(_l("Type or scan a code."), field="code")
    asset, scanned_room = identify(session, user, raw)
    if scanned_room is not None and scanned_room.ecole_id == campaign.ecole_id:
        visit_room(session, user, campaign, scanned_room.id)
        return ScanOutcome("room", raw, room=scanned_room)
    if asset is None:
        session.add(CampaignScan(campaign_id=campaign.id, classroom_id=room.id, raw=raw))
        session.commit()
        return ScanOutcome("unknown", raw, room=room)
    scan = session.scalar(
        select(CampaignScan).where(
            CampaignScan.campaign_id == campaign.id, CampaignScan.asset_id == asset.id
        )
    )
    again = scan is not None
    if scan is None:
        scan = CampaignScan(campaign_id=campaign.id, asset_id=asset.id)
        session.add(scan)
    scan.classroom_id, scan.raw, scan.at = room.id, raw, utcnow()
    session.commit()
    kind = "found" if _placed(asset, room.id, campaign) else "misplaced"
    return ScanOutcome(kind, raw, asset=asset, room=room, again=again)


@dataclass
class RoomProgress:
    room: Classroom
    visited: bool
    scanned: int
    expected: int


@dataclass
class CampaignResults:
    found: list[CampaignScan] = field(default_factory=list)
    misplaced: list[CampaignScan] = field(default_factory=list)
    missing: list[Asset] = field(default_factory=list)
    unknown: list[CampaignScan] = field(default_factory=list)
    rooms: list[RoomProgress] = field(default_factory=list)

    def in_room(self, room_id: int) -> list[tuple[str, CampaignScan]]:
        rows = [("found", s) for s in self.found if s.classroom_id == room_id]
        rows += [("misplaced", s) for s in self.misplaced if s.classroom_id == room_id]
        rows += [("unknown", s) for s in self.unknown if s.classroom_id == room_id]
        return sorted(rows, key=lambda r: r[1].id)


def _asset_options() -> list[Any]:
    return [
        selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
        selectinload(Asset.category),
        selectinload(Asset.classroom),
        selectinload(Asset.ecole),
    ]


def campaign_results(
    session: Session, user: Subject, campaign: InventoryCampaign
) -> CampaignResults:
    """Found (scanned in their recorded room), misplaced (scanned elsewhere), missing
    (expected in a checked room, never scanned) and unknown codes."""
    scans = list(
        session.scalars(
            select(CampaignScan)
            .where(CampaignScan.campaign_id == campaign.id)
            .options(
                selectinload(CampaignScan.asset).options(*_asset_options()),
                selectinload(CampaignScan.classroom),
            )
            .order_by(CampaignScan.id)
        )
    )
    results = CampaignResults()
    visited = {s.classroom_id for s in scans if s.classroom_id}
    scanned_ids = {s.asset_id for s in scans if s.asset_id}
    for scan in scans:
        if scan.asset is not None:
            placed = _placed(scan.asset, scan.classroom_id, campaign)
            (results.found if placed else results.misplaced).append(scan)
        elif scan.raw:
            results.unknown.append(scan)
    rooms = list(
        session.scalars(
            select(Classroom)
            .where(Classroom.ecole_id == campaign.ecole_id)
            .order_by(Classroom.position, Classroom.id)
        )
    )
    expected = list(
        session.scalars(
            policy.visible(
                user,
                select(Asset)
                .where(
                    Asset.ecole_id == campaign.ecole_id,
                    Asset.classroom_id.is_not(None),
                    Asset.status.in_(EXPECTED_STATUSES),
                )
                .options(*_asset_options())
                .order_by(Asset.tag),
                Asset,
            )
        )
    )
    results.missing = [a for a in expected if a.classroom_id in visited and a.id not in scanned_ids]
    per_room_expected: dict[int, int] = defaultdict(int)
    for a in expected:
        per_room_expected[a.classroom_id] += 1  # type: ignore[index]
    per_room_scanned: dict[int, int] = defaultdict(int)
    for s in scans:
        if s.asset_id and s.classroom_id:
            per_room_scanned[s.classroom_id] += 1
    results.rooms = [
        RoomProgress(r, r.id in visited, per_room_scanned[r.id], per_room_expected[r.id])
        for r in rooms
    ]
    return results


def movable(scan: CampaignScan, campaign: InventoryCampaign) -> bool:
    """A misplaced item can be moved to where it was scanned when the school's
    collectivité owns it (a move never hands an item to another owner)."""
    return (
        scan.asset is not None
        and scan.classroom_id is not None
        and scan.asset.collectivite_id == campaign.collectivite_id
    )


def move_here(
    session: Session, user: Subject, campaign: InventoryCampaign, scan_id: int | None
) -> Asset:
    """Record a misplaced item in the room where it was scanned."""
    _check_campaign(session, user, campaign)
    scan = session.get(CampaignScan, scan_id) if scan_id else None
    if scan is None or scan.campaign_id != campaign.id or scan.asset_id is None:
        raise HelpdeskError(_l("Unknown scan."), field="scan")
    asset = policy.load_or_404(user, Asset, scan.asset_id, session, Action.EDIT)
    if not movable(scan, campaign):
        raise HelpdeskError(_l("This item belongs to another collectivité."), field="scan")
    where = lifecycle.resolve_where(session, user, classroom_id=scan.classroom_id)
    return lifecycle.move_asset(session, user, asset, where)


def close_campaign(session: Session, user: Subject, campaign: InventoryCampaign) -> None:
    _check_campaign(session, user, campaign)
    if campaign.status is CampaignStatus.OPEN:
        campaign.status = CampaignStatus.CLOSED
        campaign.closed_at = utcnow()
        session.commit()


def _place(asset: Asset) -> str:
    if asset.classroom is not None:
        return asset.classroom.name
    if asset.ecole is not None:
        return asset.ecole.name
    return ""


def report_rows(results: CampaignResults, labels: dict[str, str]) -> Iterator[list[Any]]:
    """The campaign report as rows: result, tag, category, model, recorded place, scanned in,
    code read, when."""
    for kind, scans in (("found", results.found), ("misplaced", results.misplaced)):
        for s in scans:
            a = s.asset
            assert a is not None
            yield [
                labels[kind],
                a.tag,
                a.category.name_fr,
                a.model.full_name,
                _place(a),
                s.classroom.name if s.classroom else "",
                s.raw,
                s.at,
            ]
    for a in results.missing:
        yield [
            labels["missing"],
            a.tag,
            a.category.name_fr,
            a.model.full_name,
            _place(a),
            "",
            "",
            None,
        ]
    for s in results.unknown:
        yield [
            labels["unknown"],
            "",
            "",
            "",
            "",
            s.classroom.name if s.classroom else "",
            s.raw,
            s.at,
        ]
