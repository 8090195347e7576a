"""The programme's indicators, each defined once: what it counts, in words and in SQL.

Every figure of the dashboards, of their drill-down lists and of their exports comes from
here. A figure is built from *facts*: plain counters (and a few lists of durations) kept per
school, or per classroom where the fact belongs to a classroom, and added up for any group
of schools. So the figure of a département is, by construction, the sum of the figures of
its circonscriptions, of its collectivités and of its schools, and the drill-down list
behind a count selects its rows with the very condition the count adds up.

Grain: a *classroom* fact can be told per classroom (items, tickets, socle status); a
*school* fact only per school (pupils, money, accompaniment). On a classroom's page the
school facts are not shown; in a school's table of classrooms they sit on the row
"school-wide".
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import median
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, exists, not_, or_, select, true

from inventory.assets.models import Asset, AssetStatus, ClassroomSocle, StatusChange
from inventory.core import policy
from inventory.core.policy import Columns
from inventory.grants.models import DossierStatus, FundingLink
from inventory.helpdesk.models import OPEN_STATUSES, Ticket
from inventory.orgs.models import Ecole

# -- vocabulary ----------------------------------------------------------------------------
# Categories counted as in the ministry's ETIC survey of school equipment.
PUPIL_COMPUTER_CATEGORIES = ("tablette", "pc_eleve")
COLLECTIVE_DISPLAY_CATEGORIES = ("tni", "vpi", "eni", "vp")
# An item that is gone no longer counts among a school's items.
GONE = (AssetStatus.RETIRED, AssetStatus.LOST)
NOT_YET_IN_SERVICE = (AssetStatus.ORDERED, AssetStatus.DELIVERED, AssetStatus.INSTALLED)
# Dossiers whose money counts: the aid was awarded.
AWARDED = (
    DossierStatus.APPROVED,
    DossierStatus.SIGNED,
    DossierStatus.PARTIALLY_PAID,
    DossierStatus.PAID,
    DossierStatus.CLOSED,
)
# Maps are drawn up to this many schools; beyond, the page asks to narrow down.
MAP_MAX_POINTS = 3000


class Grain(enum.StrEnum):
    CLASSROOM = "classroom"
    SCHOOL = "school"


class Theme(enum.StrEnum):
    SOCLE = "socle"
    EQUIPMENT = "equipment"
    MONEY = "money"
    HELPDESK = "helpdesk"
    TRAINING = "training"
    DATA = "data"


THEME_LABELS = {
    Theme.SOCLE: _l("Socle numérique"),
    Theme.EQUIPMENT: _l("Equipment"),
    Theme.MONEY: _l("Funding"),
    Theme.HELPDESK: _l("Helpdesk"),
    Theme.TRAINING: _l("Accompaniment"),
    Theme.DATA: _l("Data completeness"),
}


class Unit(enum.StrEnum):
    COUNT = "count"
    PERCENT = "percent"
    PER_100 = "per_100"
    PER_1000 = "per_1000"
    MONEY = "money"  # cents
    DAYS = "days"


# -- facts ---------------------------------------------------------------------------------
# Counters added up over schools (or classrooms). "school" facts exist per school only.
CLASSROOM_FACTS = (
    "classrooms",
    "targets",
    "meeting",
    "missing_socle",
    "empty_classrooms",
    "items",
    "in_service",
    "pupil_computers",
    "displays",
    "funded",
    "funded_not_in_service",
    "in_service_unfunded",
    "without_serial",
    "without_funding",
    "tickets",
    "open_tickets",
    "resolved_tickets",
)
MONEY_FACTS = (
    "spending_cents",
    "eligible_cents",
    "aid_cents",
    "approved_cents",
    "paid_cents",
    "left_to_claim_cents",
)
SCHOOL_FACTS = (
    "schools",
    "pupils",
    "equipped",
    "accompanied",
    "not_accompanied",
    "equipped_not_accompanied",
    *MONEY_FACTS,
)
FACTS = CLASSROOM_FACTS + SCHOOL_FACTS


FACT_INDEX = {name: i for i, name in enumerate(FACTS)}


class Facts:
    """The additive facts of a school, a classroom or any group of them.

    The counters are a plain list (in the order of :data:`FACTS`), so that adding up tens of
    thousands of schools stays cheap."""

    __slots__ = ("counts", "delay_days", "dossiers", "paid_by_month", "resolution_seconds")

    def __init__(self) -> None:
        self.counts: list[int] = [0] * len(FACTS)
        # Seconds from report to resolution of each resolved ticket.
        self.resolution_seconds: list[float] = []
        # Per accompanied school: days from its first item in service to its first session.
        self.delay_days: list[int] = []
        # Aid received, by month (YYYY-MM), in cents.
        self.paid_by_month: dict[str, int] = {}
        # Awarded dossiers covering these schools (a set: a dossier covers several schools).
        self.dossiers: set[int] = set()

    def __getitem__(self, name: str) -> int:
        return self.counts[FACT_INDEX[name]]

    def __setitem__(self, name: str, value: int) -> None:
        self.counts[FACT_INDEX[name]] = value

    def set_many(self, names: Iterable[str], values: Iterable[Any]) -> None:
        counts = self.counts
        for name, value in zip(names, values, strict=True):
            counts[FACT_INDEX[name]] = int(value)

    def add(self, other: Facts) -> Facts:
        self.counts = list(map(operator.add, self.counts, other.counts))
        if other.resolution_seconds:
            self.resolution_seconds.extend(other.resolution_seconds)
        if other.delay_days:
            self.delay_days.extend(other.delay_days)
        if other.paid_by_month:
            for month, cents in other.paid_by_month.items():
                self.paid_by_month[month] = self.paid_by_month.get(month, 0) + cents
        if other.dossiers:
            self.dossiers |= other.dossiers
        return self

    @classmethod
    def total(cls, parts: Iterable[Facts]) -> Facts:
        out = cls()
        for p in parts:
            out.add(p)
        return out


# -- indicators ----------------------------------------------------------------------------
class Kind(enum.StrEnum):
    COUNT = "count"  # a fact
    RATIO = "ratio"  # numerator / denominator × scale
    MEDIAN = "median"  # median of a list of facts


@dataclass(frozen=True)
class Indicator:
    code: str
    theme: Theme
    kind: Kind
    unit: Unit
    grain: Grain
    label: Any
    definition: Any
    fact: str | None = None  # COUNT: the fact; RATIO: the numerator
    denominator: str | None = None
    scale: int = 1
    values: str | None = None  # MEDIAN: the Facts list attribute
    listing: str | None = None  # the drill-down list behind the figure
    headline: bool = True  # shown in the level's figures (else only in tables)

    def value(self, facts: Facts) -> float | int | None:
        if self.kind is Kind.COUNT:
            return facts[self.fact or self.code]
        if self.kind is Kind.RATIO:
            den = facts[self.denominator or ""]
            return facts[self.fact or ""] * self.scale / den if den else None
        values = getattr(facts, self.values or "")
        if not values:
            return None
        if self.unit is Unit.DAYS and self.values == "resolution_seconds":
            return median(values) / 86400
        return median(values)

    def applies(self, grain: Grain) -> bool:
        """Whether the indicator can be told at this grain (a school grain: per classroom no)."""
        return grain is Grain.SCHOOL or self.grain is Grain.CLASSROOM


INDICATORS: tuple[Indicator, ...] = (
    # -- socle
    Indicator(
        "socle_coverage",
        Theme.SOCLE,
        Kind.RATIO,
        Unit.PERCENT,
        Grain.CLASSROOM,
        _l("Target classrooms meeting the socle"),
        _l(
            "Share of the target classrooms (CP to CM2 and ULIS, or rooms without levels in a "
            "school that is not a maternelle) where every classroom requirement of the current "
            "socle référentiel is met by items in service, their capabilities or finished "
            "network works. The school's own requirements (pupils' mobile equipment, Wi-Fi, "
            "sharing of work, the director's kit) are reported per school, not counted here."
        ),
        fact="meeting",
        denominator="targets",
        scale=100,
        listing="meeting",
    ),
    Indicator(
        "missing_socle",
        Theme.SOCLE,
        Kind.COUNT,
        Unit.COUNT,
        Grain.CLASSROOM,
        _l("Target classrooms missing the socle"),
        _l("Target classrooms where at least one classroom requirement of the socle is not met."),
        listing="missing_socle",
    ),
    Indicator(
        "targets",
        Theme.SOCLE,
        Kind.COUNT,
        Unit.COUNT,
        Grain.CLASSROOM,
        _l("Target classrooms"),
        _l("Classrooms the programme aims at: CP to CM2 and ULIS."),
        listing="targets",
        headline=False,
    ),
    # -- equipment (ETIC shapes)
    Indicator(
        "pupil_computers_per_100",
        Theme.EQUIPMENT,
        Kind.RATIO,
        Unit.PER_100,
        Grain.SCHOOL,
        _l("Pupil computers per 100 pupils"),
        _l(
            "Tablets and pupil laptops in service at the schools, per 100 pupils of the "
            "schools (Annuaire de l'éducation), as in the ministry's ETIC survey."
        ),
        fact="pupil_computers",
        denominator="pupils",
        scale=100,
        listing="pupil_computers",
    ),
    Indicator(
        "displays_per_1000",
        Theme.EQUIPMENT,
        Kind.RATIO,
        Unit.PER_1000,
        Grain.SCHOOL,
        _l("Collective displays per 1,000 pupils"),
        _l(
            "Interactive whiteboards (TNI), interactive projectors (VPI), interactive screens "
            "(ENI) and video projectors in service, per 1,000 pupils, as in the ETIC survey."
        ),
        fact="displays",
        denominator="pupils",
        scale=1000,
        listing="displays",
    ),
    Indicator(
        "in_service",
        Theme.EQUIPMENT,
        Kind.COUNT,
        Unit.COUNT,
        Grain.CLASSROOM,
        _l("Items in service"),
        _l("Items placed at a school (in a classroom or shared) whose status is in service."),
        listing="in_service",
    ),
    # -- money
    Indicator(
        "funded",
        Theme.MONEY,
        Kind.COUNT,
        Unit.COUNT,
        Grain.CLASSROOM,
        _l("Funded items"),
        _l("Items at the schools that at least one invoice of a grant dossier paid for."),
        listing="funded",
    ),
    Indicator(
        "funded_not_in_service",
        Theme.MONEY,
        Kind.COUNT,
        Unit.COUNT,
        Grain.CLASSROOM,
        _l("Funded, not yet in service"),
        _l("Funded items still ordered, delivered or installed, not yet in service."),
        listing="funded_not_in_service",
    ),
    Indicator(
        "in_service_unfunded",
        Theme.MONEY,
        Kind.COUNT,
        Unit.COUNT,
        Grain.CLASSROOM,
        _l("In service without funding"),
        _l("Items in service that no invoice of a grant dossier paid for."),
        listing="in_service_unfunded",
    ),
    Indicator(
        "spending",
        Theme.MONEY,
        Kind.COUNT,
        Unit.MONEY,
        Grain.SCHOOL,
        _l("Spending"),
        _l(
            "Invoices of the awarded dossiers allocated to the schools, including or "
            "excluding VAT as the dossier's scheme says."
        ),
        fact="spending_cents",
        listing="dossiers",
    ),
    Indicator(
        "eligible",
        Theme.MONEY,
        Kind.COUNT,
        Unit.MONEY,
        Grain.SCHOOL,
        _l("Eligible spending"),
        _l(
            "Spending the scheme subsidises once its minimum per school and its caps (per "
            "class, per pupil or per school) apply."
        ),
        fact="eligible_cents",
        listing="dossiers",
    ),
    Indicator(
        "aid",
        Theme.MONEY,
        Kind.COUNT,
        Unit.MONEY,
        Grain.SCHOOL,
        _l("Aid computed"),
        _l(
            "State aid of the recorded spending under each dossier's frozen rules, limited to "
            "the convention's maximum, shared among the schools as the computation does."
        ),
        fact="aid_cents",
        listing="dossiers",
    ),
    Indicator(
        "approved",
        Theme.MONEY,
        Kind.COUNT,
        Unit.MONEY,
        Grain.SCHOOL,
        _l("Approved (convention maximum)"),
        _l(
            "Maximum subsidy of the conventions; below the collectivité, shared among the "
            "covered schools in proportion to their classes."
        ),
        fact="approved_cents",
        listing="dossiers",
    ),
    Indicator(
        "paid",
        Theme.MONEY,
        Kind.COUNT,
        Unit.MONEY,
        Grain.SCHOOL,
        _l("Aid paid"),
        _l(
            "Payments received by the collectivités; below the collectivité, shared among the "
            "covered schools in proportion to their computed aid."
        ),
        fact="paid_cents",
        listing="dossiers",
    ),
    Indicator(
        "left_to_claim",
        Theme.MONEY,
        Kind.COUNT,
        Unit.MONEY,
        Grain.SCHOOL,
        _l("Left to claim"),
        _l("Aid computed not yet paid, per school (never below zero)."),
        fact="left_to_claim_cents",
        listing="dossiers",
    ),
    # -- helpdesk
    Indicator(
        "open_tickets",
        Theme.HELPDESK,
        Kind.COUNT,
        Unit.COUNT,
        Grain.CLASSROOM,
        _l("Open tickets"),
        _l(
            "Problems reported and not yet resolved (new, acknowledged, in progress, waiting, "
            "reopened)."
        ),
        listing="open_tickets",
    ),
    Indicator(
        "median_resolution",
        Theme.HELPDESK,
        Kind.MEDIAN,
        Unit.DAYS,
        Grain.CLASSROOM,
        _l("Median resolution time"),
        _l("Median time from report to resolution of the resolved tickets, in days."),
        values="resolution_seconds",
        listing="resolved_tickets",
    ),
    # -- accompaniment
    Indicator(
        "accompanied",
        Theme.TRAINING,
        Kind.RATIO,
        Unit.PERCENT,
        Grain.SCHOOL,
        _l("Schools accompanied"),
        _l("Share of the schools with at least one training or accompaniment session held."),
        fact="accompanied",
        denominator="schools",
        scale=100,
        listing="accompanied",
    ),
    Indicator(
        "equipped_not_accompanied",
        Theme.TRAINING,
        Kind.COUNT,
        Unit.COUNT,
        Grain.SCHOOL,
        _l("Equipped, not accompanied"),
        _l("Schools with at least one item in service and no session held yet."),
        listing="equipped_not_accompanied",
    ),
    Indicator(
        "median_delay",
        Theme.TRAINING,
        Kind.MEDIAN,
        Unit.DAYS,
        Grain.SCHOOL,
        _l("Median delay to accompaniment"),
        _l(
            "Median, over the accompanied schools, of the days from the school's first item "
            "put in service to its first session held (0 when the session came first)."
        ),
        values="delay_days",
        listing="accompanied",
    ),
    # -- data completeness
    Indicator(
        "without_serial",
        Theme.DATA,
        Kind.COUNT,
        Unit.COUNT,
        Grain.CLASSROOM,
        _l("Items without serial number"),
        _l("Items at the schools (not retired nor lost) with no serial number."),
        listing="without_serial",
    ),
    Indicator(
        "without_funding",
        Theme.DATA,
        Kind.COUNT,
        Unit.COUNT,
        Grain.CLASSROOM,
        _l("Items without any funding link"),
        _l("Items at the schools (not retired nor lost) that no invoice is linked to."),
        listing="without_funding",
    ),
    Indicator(
        "empty_classrooms",
        Theme.DATA,
        Kind.COUNT,
        Unit.COUNT,
        Grain.CLASSROOM,
        _l("Classrooms without any item"),
        _l("Classrooms where no item (other than retired or lost ones) is placed."),
        listing="empty_classrooms",
    ),
)
BY_CODE = {i.code: i for i in INDICATORS}


def by_theme(grain: Grain = Grain.SCHOOL) -> list[tuple[Theme, list[Indicator]]]:
    return [
        (theme, [i for i in INDICATORS if i.theme is theme and i.applies(grain)]) for theme in Theme
    ]


# -- drill-down lists ----------------------------------------------------------------------
class ListKind(enum.StrEnum):
    CLASSROOM = "classroom"
    ASSET = "asset"
    TICKET = "ticket"
    SCHOOL = "school"
    DOSSIER = "dossier"


@dataclass(frozen=True)
class Listing:
    code: str
    kind: ListKind
    label: Any
    fact: str | None  # the count the list's length equals (None: dossiers, told apart)
    grain: Grain = Grain.CLASSROOM


LISTINGS: tuple[Listing, ...] = (
    Listing("classrooms", ListKind.CLASSROOM, _l("Classrooms"), "classrooms"),
    Listing("targets", ListKind.CLASSROOM, _l("Target classrooms"), "targets"),
    Listing("meeting", ListKind.CLASSROOM, _l("Target classrooms meeting the socle"), "meeting"),
    Listing(
        "missing_socle",
        ListKind.CLASSROOM,
        _l("Target classrooms missing the socle"),
        "missing_socle",
    ),
    Listing(
        "empty_classrooms",
        ListKind.CLASSROOM,
        _l("Classrooms without any item"),
        "empty_classrooms",
    ),
    Listing("items", ListKind.ASSET, _l("Items at the schools"), "items"),
    Listing("in_service", ListKind.ASSET, _l("Items in service"), "in_service"),
    Listing("pupil_computers", ListKind.ASSET, _l("Pupil computers in service"), "pupil_computers"),
    Listing("displays", ListKind.ASSET, _l("Collective displays in service"), "displays"),
    Listing("funded", ListKind.ASSET, _l("Funded items"), "funded"),
    Listing(
        "funded_not_in_service",
        ListKind.ASSET,
        _l("Funded items not yet in service"),
        "funded_not_in_service",
    ),
    Listing(
        "in_service_unfunded",
        ListKind.ASSET,
        _l("Items in service without funding"),
        "in_service_unfunded",
    ),
    Listing("without_serial", ListKind.ASSET, _l("Items without serial number"), "without_serial"),
    Listing(
        "without_funding", ListKind.ASSET, _l("Items without any funding link"), "without_funding"
    ),
    Listing("tickets", ListKind.TICKET, _l("Tickets"), "tickets"),
    Listing("open_tickets", ListKind.TICKET, _l("Open tickets"), "open_tickets"),
    Listing("resolved_tickets", ListKind.TICKET, _l("Resolved tickets"), "resolved_tickets"),
    Listing("schools", ListKind.SCHOOL, _l("Schools"), "schools", Grain.SCHOOL),
    Listing("accompanied", ListKind.SCHOOL, _l("Schools accompanied"), "accompanied", Grain.SCHOOL),
    Listing(
        "not_accompanied",
        ListKind.SCHOOL,
        _l("Schools not accompanied"),
        "not_accompanied",
        Grain.SCHOOL,
    ),
    Listing(
        "equipped_not_accompanied",
        ListKind.SCHOOL,
        _l("Schools equipped, not accompanied"),
        "equipped_not_accompanied",
        Grain.SCHOOL,
    ),
    Listing("dossiers", ListKind.DOSSIER, _l("Awarded dossiers"), None, Grain.SCHOOL),
)
LISTING_BY_CODE = {lst.code: lst for lst in LISTINGS}


# -- the conditions, in SQL: the same for a count and for its list ---------------------------
@dataclass(frozen=True)
class Context:
    """What the conditions need to know: the reader and the category ids.

    ``school_view``: the reader sees everything at the schools of their scope (the
    académie side and the administrators), so a school's facts are the same for every
    such reader and can be kept per school (reports.summary). Municipal staff see what
    their collectivité owns, which may differ at a school that changed hands: their
    figures go through each model's policy."""

    user: policy.Subject
    pupil_computer_ids: tuple[int, ...]
    display_ids: tuple[int, ...]
    school_view: bool = False

    def condition(self, model: type) -> ColumnElement[bool]:
        """The policy's condition on ``model``, unless the school is the unit of visibility
        (the schools themselves are then narrowed by the policy, by every caller)."""
        return true() if self.school_view else policy.condition(self.user, model)

    def visible(self, stmt: Select[*Columns], model: type) -> Select[*Columns]:
        return stmt if self.school_view else policy.visible(self.user, stmt, model)

    def funded_asset_ids(self) -> Select[Any]:
        """Items some invoice paid for, as the reader may see the links."""
        return self.visible(
            select(FundingLink.asset_id).where(FundingLink.asset_id.isnot(None)), FundingLink
        )


def asset_population(ctx: Context) -> ColumnElement[bool]:
    """Items that count: at a school, not gone, visible to the reader."""
    return and_(
        Asset.ecole_id.isnot(None),
        Asset.status.notin_(GONE),
        ctx.condition(Asset),
    )


def asset_conditions(
    ctx: Context, funded: ColumnElement[bool] | None = None
) -> dict[str, ColumnElement[bool]]:
    """``funded`` may be given as an equivalent expression (the aggregate joins the funded
    items once instead of looking them up per condition)."""
    if funded is None:
        funded = Asset.id.in_(ctx.funded_asset_ids())
    in_service = Asset.status == AssetStatus.IN_SERVICE
    return {
        "items": true(),
        "in_service": in_service,
        "pupil_computers": and_(in_service, Asset.category_id.in_(ctx.pupil_computer_ids)),
        "displays": and_(in_service, Asset.category_id.in_(ctx.display_ids)),
        "funded": funded,
        "funded_not_in_service": and_(funded, Asset.status.in_(NOT_YET_IN_SERVICE)),
        "in_service_unfunded": and_(in_service, not_(funded)),
        "without_serial": or_(Asset.serial.is_(None), Asset.serial == ""),
        "without_funding": not_(funded),
    }


def classroom_population(ctx: Context) -> ColumnElement[bool]:
    return ctx.condition(ClassroomSocle)


def classroom_conditions(ctx: Context) -> dict[str, ColumnElement[bool]]:
    has_item = exists().where(
        Asset.classroom_id == ClassroomSocle.classroom_id,
        Asset.status.notin_(GONE),
        ctx.condition(Asset),
    )
    return {
        "classrooms": true(),
        "targets": ClassroomSocle.is_target.is_(True),
        "meeting": and_(ClassroomSocle.is_target.is_(True), ClassroomSocle.meets.is_(True)),
        "missing_socle": ClassroomSocle.missing(),
        "empty_classrooms": not_(has_item),
    }


def ticket_population(ctx: Context) -> ColumnElement[bool]:
    return ctx.condition(Ticket)


def ticket_conditions(ctx: Context) -> dict[str, ColumnElement[bool]]:
    return {
        "tickets": true(),
        "open_tickets": Ticket.status.in_(OPEN_STATUSES),
        "resolved_tickets": and_(
            Ticket.resolved_at.isnot(None), Ticket.status.notin_(OPEN_STATUSES)
        ),
    }


def installation_event() -> ColumnElement[bool]:
    """A step that puts an item in service for the first time (not back from repair or loss)."""
    return and_(
        StatusChange.to_status == AssetStatus.IN_SERVICE,
        or_(
            StatusChange.from_status.is_(None),
            StatusChange.from_status.in_(NOT_YET_IN_SERVICE),
        ),
    )


def equipped_school_ids(ctx: Context) -> Select[Any]:
    """Schools with an item in service (the 'equipped' fact, as a list condition)."""
    return select(Asset.ecole_id).where(
        asset_population(ctx), Asset.status == AssetStatus.IN_SERVICE
    )


def school_conditions(ctx: Context, held_school_ids: Select[Any]) -> dict[str, ColumnElement[bool]]:
    accompanied = Ecole.id.in_(held_school_ids)
    return {
        "schools": true(),
        "accompanied": accompanied,
        "not_accompanied": not_(accompanied),
        "equipped_not_accompanied": and_(Ecole.id.in_(equipped_school_ids(ctx)), not_(accompanied)),
    }
