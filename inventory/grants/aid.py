"""The state-aid computation: a pure function of a scheme's rules, a dossier and its spending.

Everything is integer cents. The one rounding rule: an aid computed from rates is rounded
half up to the cent once, on the volet's total (the exact products of its tiers added
first); every part of a total (a tier's line, a school's share, a volet's share when the
convention maximum cuts the aid) is a share by largest remainder, so that the parts add up
to their total exactly.

Dates come first. A scheme may give a spending window (``spending_from`` and ``spending_to``,
both days included): a line whose invoice is dated outside it is not eligible, nor is a
line without an invoice date when the window exists (nothing shows it was spent in time).
Such lines are set aside, with their reason, before anything else is counted.

Per volet:
1. the spending of each school is the sum of its lines (excl. or incl. VAT, as the scheme
   says);
2. a school whose spending is below the volet's minimum per school is not eligible;
3. the spending is capped per school (per class covered, per pupil, or flat): that
   school's eligible base;
4. the rate tiers apply to the volet's total eligible base (e.g. 70 % up to 200,000 €, then
   50 %): the volet's tiered aid;
5. the tiered aid is shared among the schools in proportion to their base, and each share
   is then held to that school's own limits: its aid cap (per pupil, per class or flat),
   and its base × the volet's top rate. What a limit takes off one school is not paid: it
   is never given to another school (each is already at its rate).
Finally the aid of all volets is limited to the convention's maximum subsidy, shared back
over the volets and, within each, over the schools, in proportion.

What this guarantees, for any rules and spending (tests/grants/test_aid_properties.py):
- a school's aid in a volet is at most its own aid cap, at most its eligible base × the
  volet's top rate (rounded half up), and at most its proportional share of the tiered aid
  (base × tiered aid ÷ total base, rounded up): the volet's effective rate, never above
  its top rate;
- a school's eligible base is at most its own spending cap and its own spending in the
  window; a school below the minimum, or not covered, gets nothing;
- a volet's aid is at most the tiered aid of its total base; the total is at most the
  convention maximum; schools add up to volets and volets to the total, to the cent;
- the result depends on the lines and schools given, not on their order.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)


class CapBasis(StrEnum):
    CLASS = "class"
    PUPIL = "pupil"
    SCHOOL = "school"


class DateProblem(StrEnum):
    """Why an expense's date makes it ineligible."""

    UNDATED = "undated"
    BEFORE = "before_window"
    AFTER = "after_window"


@dataclass(frozen=True)
class Tier:
    rate: Decimal
    up_to_cents: int | None = None  # None: no upper bound


@dataclass(frozen=True)
class Cap:
    basis: CapBasis
    amount_cents: int
    years: int = 1

    def limit(self, classes: int, pupils: int) -> int:
        count = {CapBasis.CLASS: classes, CapBasis.PUPIL: pupils, CapBasis.SCHOOL: 1}[self.basis]
        return self.amount_cents * count * self.years

    def params(self, classes: int, pupils: int) -> dict[str, Any]:
        return {
            "basis": self.basis.value,
            "unit": self.amount_cents,
            "classes": classes,
            "pupils": pupils,
            "years": self.years,
        }


@dataclass(frozen=True)
class VoletRules:
    code: str
    label: str
    tiers: tuple[Tier, ...]
    spending_cap: Cap | None = None
    aid_cap: Cap | None = None
    min_per_school_cents: int = 0
    eligible_categories: tuple[str, ...] = ()

    @property
    def top_rate(self) -> Decimal:
        return max(t.rate for t in self.tiers)


# The keys of a scheme's dates in its rules (ISO days), next to "volets".
DATE_KEYS = ("spending_from", "spending_to", "claim_deadline")


def _day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@dataclass(frozen=True)
class SchemeRules:
    volets: tuple[VoletRules, ...]
    vat_included: bool = True
    spending_from: date | None = None  # first day of eligible spending (invoice date)
    spending_to: date | None = None  # last day of eligible spending
    claim_deadline: date | None = None  # last day to claim the payment

    def volet(self, code: str) -> VoletRules | None:
        return next((v for v in self.volets if v.code == code), None)

    @property
    def has_window(self) -> bool:
        return self.spending_from is not None or self.spending_to is not None

    def date_problem(self, invoice_date: date | None) -> DateProblem | None:
        """Why an invoice of this day is not eligible, or None when it is."""
        if not self.has_window:
            return None
        if invoice_date is None:
            return DateProblem.UNDATED
        if self.spending_from is not None and invoice_date < self.spending_from:
            return DateProblem.BEFORE
        if self.spending_to is not None and invoice_date > self.spending_to:
            return DateProblem.AFTER
        return None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SchemeRules:
        """Rules as stored (JSON) → typed rules. Amounts are cents, rates decimal strings,
        dates ISO days."""

        def cap(d: Mapping[str, Any] | None) -> Cap | None:
            if not d:
                return None
            return Cap(CapBasis(d["basis"]), int(d["amount_cents"]), int(d.get("years", 1)))

        volets = tuple(
            VoletRules(
                code=v["code"],
                label=v.get("label", v["code"]),
                tiers=tuple(
                    Tier(Decimal(str(t["rate"])), t.get("up_to_cents")) for t in v["tiers"]
                ),
                spending_cap=cap(v.get("spending_cap")),
                aid_cap=cap(v.get("aid_cap")),
                min_per_school_cents=int(v.get("min_per_school_cents", 0)),
                eligible_categories=tuple(v.get("eligible_categories", ())),
            )
            for v in data["volets"]
        )
        return cls(
            volets=volets,
            vat_included=bool(data.get("vat_included", True)),
            spending_from=_day(data.get("spending_from")),
            spending_to=_day(data.get("spending_to")),
            claim_deadline=_day(data.get("claim_deadline")),
        )


@dataclass(frozen=True)
class SchoolFacts:
    """A school covered by the dossier, with the counts the caps use."""

    ecole_id: int
    name: str
    classes: int
    pupils: int


@dataclass(frozen=True)
class Spending:
    """An amount of one expense line allocated to one school, for one volet, with the
    invoice's date (checked against the scheme's window) and the expense it comes from."""

    volet: str
    ecole_id: int
    amount_ht_cents: int
    amount_ttc_cents: int
    invoice_date: date | None = None
    expense_id: int | None = None


@dataclass
class Step:
    """One line of the breakdown shown to finance staff."""

    text: str
    amount_cents: int
    ecole_id: int | None = None
    volet: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Exclusion:
    """A line set aside because of its invoice's date."""

    volet: str
    ecole_id: int
    expense_id: int | None
    amount_cents: int
    reason: DateProblem
    invoice_date: date | None


@dataclass
class VoletResult:
    code: str
    label: str
    spending_cents: int = 0  # in the window (what may be claimed)
    excluded_cents: int = 0  # set aside for their date
    eligible_cents: int = 0
    tiered_cents: int = 0  # the tiers' aid on the total eligible base
    aid_cents: int = 0
    spending_by_school: dict[int, int] = field(default_factory=dict)
    eligible_by_school: dict[int, int] = field(default_factory=dict)
    by_school: dict[int, int] = field(default_factory=dict)  # aid


@dataclass
class AidResult:
    volets: list[VoletResult]
    steps: list[Step]
    spending_cents: int
    eligible_cents: int
    computed_cents: int
    aid_cents: int
    convention_max_cents: int | None
    capped_by_convention: bool
    excluded: list[Exclusion] = field(default_factory=list)

    @staticmethod
    def _sum(parts: Sequence[Mapping[int, int]]) -> dict[int, int]:
        out: dict[int, int] = {}
        for part in parts:
            for ecole_id, cents in part.items():
                out[ecole_id] = out.get(ecole_id, 0) + cents
        return out

    @property
    def by_school(self) -> dict[int, int]:
        return self._sum([v.by_school for v in self.volets])

    @property
    def spending_by_school(self) -> dict[int, int]:
        return self._sum([v.spending_by_school for v in self.volets])

    @property
    def eligible_by_school(self) -> dict[int, int]:
        return self._sum([v.eligible_by_school for v in self.volets])

    @property
    def excluded_cents(self) -> int:
        return sum(v.excluded_cents for v in self.volets)

    @property
    def coverage(self) -> Decimal:
        if not self.spending_cents:
            return Decimal(0)
        return (Decimal(self.aid_cents) / Decimal(self.spending_cents)).quantize(Decimal("0.0001"))


def apply_rate(cents: int, rate: Decimal) -> int:
    return int((Decimal(cents) * rate).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _shares(
    total: int, exact: Mapping[K, Decimal], bounds: Mapping[K, int] | None = None
) -> dict[K, int]:
    """Largest remainder: each key gets the whole cents of its exact part, and the cents
    left (``total`` less those) go one each to the largest fractional parts, ties to the
    smallest key. With ``bounds``, no part goes above its bound: a part cut by its bound
    takes no cent left over, and a cent no part has room for is not given."""
    floors = {k: int(v) for k, v in exact.items()}  # parts are ≥ 0: int() is the floor
    rest = total - sum(floors.values())
    parts = dict(floors)
    if bounds is not None:
        parts = {k: min(v, bounds.get(k, v)) for k, v in floors.items()}
    order = sorted(exact, key=lambda k: (floors[k] - exact[k], k))
    for k in order:
        if rest <= 0:
            break
        if bounds is not None and k in bounds and (parts[k] != floors[k] or parts[k] >= bounds[k]):
            continue
        parts[k] += 1
        rest -= 1
    return parts


def split(total: int, weights: Mapping[int, int]) -> dict[int, int]:
    """Share ``total`` cents in proportion to ``weights``; parts sum exactly to ``total``."""
    weight_sum = sum(weights.values())
    if weight_sum <= 0 or total == 0:
        return dict.fromkeys(weights, 0)
    return _shares(total, {k: Decimal(total) * w / weight_sum for k, w in weights.items()})


def _tiered(base: int, tiers: Sequence[Tier], steps: list[Step], volet: str) -> int:
    """The tiers' aid on ``base``: the exact products added, rounded half up once; each
    tier's line is its share of that total."""
    exact: dict[int, Decimal] = {}
    bounds: list[tuple[Tier, int, int]] = []
    lower = 0
    for i, tier in enumerate(tiers):
        upper = base if tier.up_to_cents is None else min(base, tier.up_to_cents)
        if upper <= lower:
            break
        exact[i] = Decimal(upper - lower) * tier.rate
        bounds.append((tier, lower, upper))
        lower = upper
    total = int(sum(exact.values(), Decimal(0)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    parts = _shares(total, exact)
    for i, (tier, low, high) in enumerate(bounds):
        steps.append(
            Step("tier", parts[i], volet=volet, params={"rate": tier.rate, "from": low, "to": high})
        )
    return total


def _set_aside(
    rules: SchemeRules, lines: Sequence[Spending], volet: VoletRules, steps: list[Step]
) -> tuple[dict[int, int], list[Exclusion]]:
    """The volet's spending per school in the window, and the lines left out for their date."""
    per_school: dict[int, int] = {}
    excluded: list[Exclusion] = []
    for line in lines:
        amount = line.amount_ttc_cents if rules.vat_included else line.amount_ht_cents
        problem = rules.date_problem(line.invoice_date)
        if problem is None:
            per_school[line.ecole_id] = per_school.get(line.ecole_id, 0) + amount
            continue
        excluded.append(
            Exclusion(
                volet.code, line.ecole_id, line.expense_id, amount, problem, line.invoice_date
            )
        )
    excluded.sort(
        key=lambda x: (x.ecole_id, x.expense_id or 0, x.invoice_date or date.min, x.amount_cents)
    )
    for x in excluded:
        steps.append(
            Step(
                x.reason.value,
                x.amount_cents,
                x.ecole_id,
                volet.code,
                {
                    "expense": x.expense_id,
                    "date": x.invoice_date,
                    "from": rules.spending_from,
                    "to": rules.spending_to,
                },
            )
        )
    return per_school, excluded


def _volet(
    rules: SchemeRules,
    volet: VoletRules,
    facts: Mapping[int, SchoolFacts],
    lines: Sequence[Spending],
    steps: list[Step],
    excluded: list[Exclusion],
) -> VoletResult | None:
    result = VoletResult(volet.code, volet.label)
    per_school, aside = _set_aside(rules, lines, volet, steps)
    excluded.extend(aside)
    result.excluded_cents = sum(x.amount_cents for x in aside)
    if not per_school and not aside:
        return None
    base: dict[int, int] = {}
    for ecole_id, spent in sorted(per_school.items()):
        school = facts.get(ecole_id)
        result.spending_cents += spent
        result.spending_by_school[ecole_id] = spent
        steps.append(Step("spending", spent, ecole_id, volet.code))
        if school is None:
            steps.append(Step("not_covered", 0, ecole_id, volet.code))
            continue
        if spent < volet.min_per_school_cents:
            steps.append(
                Step(
                    "below_minimum",
                    0,
                    ecole_id,
                    volet.code,
                    {"minimum": volet.min_per_school_cents},
                )
            )
            continue
        eligible = spent
        if volet.spending_cap:
            limit = volet.spending_cap.limit(school.classes, school.pupils)
            if spent > limit:
                eligible = limit
                steps.append(
                    Step(
                        "spending_cap",
                        limit,
                        ecole_id,
                        volet.code,
                        volet.spending_cap.params(school.classes, school.pupils),
                    )
                )
        base[ecole_id] = eligible
    result.eligible_by_school = {e: b for e, b in base.items() if b}
    result.eligible_cents = sum(base.values())
    steps.append(Step("eligible", result.eligible_cents, volet=volet.code))
    tiered = _tiered(result.eligible_cents, volet.tiers, steps, volet.code) if base else 0
    result.tiered_cents = tiered
    shares = _school_shares(volet, facts, base, tiered, steps)
    result.by_school = {e: cents for e, cents in shares.items() if cents}
    result.aid_cents = sum(shares.values())
    steps.append(Step("volet_aid", result.aid_cents, volet=volet.code, params={"tiered": tiered}))
    return result


def _school_shares(
    volet: VoletRules,
    facts: Mapping[int, SchoolFacts],
    base: Mapping[int, int],
    tiered: int,
    steps: list[Step],
) -> dict[int, int]:
    """The tiered aid shared in proportion to the bases, each share held to the school's own
    aid cap and to its base × the top rate; one step per school."""
    total_base = sum(base.values())
    if not total_base:
        return dict.fromkeys(base, 0)
    exact = {e: Decimal(tiered) * b / total_base for e, b in base.items()}
    bounds: dict[int, int] = {}
    cap_limits: dict[int, int] = {}
    for ecole_id, b in base.items():
        bound = apply_rate(b, volet.top_rate)
        if volet.aid_cap is not None:
            school = facts[ecole_id]
            cap_limits[ecole_id] = volet.aid_cap.limit(school.classes, school.pupils)
            bound = min(bound, cap_limits[ecole_id])
        bounds[ecole_id] = bound
    free = _shares(tiered, exact)  # what each school's share would be without its limits
    shares = _shares(tiered, exact, bounds)
    for ecole_id in sorted(base):
        cents = shares[ecole_id]
        params: dict[str, Any] = {
            "eligible": base[ecole_id],
            "of": total_base,
            "share": free[ecole_id],
            "rate": volet.top_rate,
        }
        kind = "school_aid"
        if cents < free[ecole_id]:
            capped = ecole_id in cap_limits and cents == cap_limits[ecole_id]
            kind = "aid_cap" if capped else "rate_limit"
            if capped:
                school = facts[ecole_id]
                params |= volet.aid_cap.params(school.classes, school.pupils)  # type: ignore[union-attr]
        steps.append(Step(kind, cents, ecole_id, volet.code, params))
    return shares


def compute_aid(
    rules: SchemeRules,
    schools: Sequence[SchoolFacts],
    spending: Sequence[Spending],
    convention_max_cents: int | None = None,
) -> AidResult:
    """(scheme, dossier, expenses) → aid per volet and per school, with every step."""
    steps: list[Step] = []
    facts = {s.ecole_id: s for s in schools}
    by_volet: dict[str, list[Spending]] = {}
    for line in spending:
        by_volet.setdefault(line.volet, []).append(line)
    results: list[VoletResult] = []
    excluded: list[Exclusion] = []
    for volet in rules.volets:
        result = _volet(rules, volet, facts, by_volet.get(volet.code, ()), steps, excluded)
        if result is not None:
            results.append(result)
    computed = sum(r.aid_cents for r in results)
    aid = computed
    capped = convention_max_cents is not None and computed > convention_max_cents
    if capped:
        aid = convention_max_cents  # type: ignore[assignment]
        steps.append(Step("convention_max", aid, params={"computed": computed}))
        volet_shares = split(aid, {i: r.aid_cents for i, r in enumerate(results)})
        for i, r in enumerate(results):
            r.aid_cents = volet_shares[i]
            r.by_school = {e: c for e, c in split(r.aid_cents, r.by_school).items() if c}
    totals = AidResult._sum([r.by_school for r in results])
    covered = sorted(set(facts) | set(totals))
    if len(covered) > 1 or capped:
        for ecole_id in covered:
            if ecole_id in facts or totals.get(ecole_id):
                steps.append(Step("school_total", totals.get(ecole_id, 0), ecole_id))
    steps.append(Step("total", aid))
    return AidResult(
        volets=results,
        steps=steps,
        spending_cents=sum(r.spending_cents for r in results),
        eligible_cents=sum(r.eligible_cents for r in results),
        computed_cents=computed,
        aid_cents=aid,
        convention_max_cents=convention_max_cents,
        capped_by_convention=capped,
        excluded=excluded,
    )
