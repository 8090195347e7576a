"""The state-aid computation: a pure function of a scheme's rules, a dossier and its spending.

Everything is integer cents. The one rounding rule: each multiplication by a rate is
rounded half up to the cent, once per tier and school; shares of a total (per school, or
when the convention maximum cuts the aid) are split by largest remainder so that the
parts always add up to the total exactly.

Per volet:
1. the spending of each school is the sum of the expense amounts allocated to it (excl.
   or incl. VAT, as the scheme says);
2. a school whose spending is below the volet's minimum per school is not eligible;
3. the spending is capped per school (per class covered, per pupil, or flat), giving the
   eligible base;
4. the rate tiers apply to the volet's total eligible base (e.g. 70 % up to 200,000 €, then
   50 %), and the aid is spread back over the schools in proportion to their base;
5. an aid cap (per pupil, say) may then limit each school's aid.
Finally the aid of all volets is limited to the convention's maximum subsidy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any


class CapBasis(StrEnum):
    CLASS = "class"
    PUPIL = "pupil"
    SCHOOL = "school"


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


@dataclass(frozen=True)
class SchemeRules:
    volets: tuple[VoletRules, ...]
    vat_included: bool = True

    def volet(self, code: str) -> VoletRules | None:
        return next((v for v in self.volets if v.code == code), None)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> SchemeRules:
        """Rules as stored (JSON) → typed rules. Amounts are cents, rates decimal strings."""

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
        return cls(volets=volets, vat_included=bool(data.get("vat_included", True)))


@dataclass(frozen=True)
class SchoolFacts:
    """A school covered by the dossier, with the counts the caps use."""

    ecole_id: int
    name: str
    classes: int
    pupils: int


@dataclass(frozen=True)
class Spending:
    """An amount of one expense line allocated to one school, for one volet."""

    volet: str
    ecole_id: int
    amount_ht_cents: int
    amount_ttc_cents: int


@dataclass
class Step:
    """One line of the breakdown shown to finance staff."""

    text: str
    amount_cents: int
    ecole_id: int | None = None
    volet: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class VoletResult:
    code: str
    label: str
    spending_cents: int = 0
    eligible_cents: int = 0
    aid_cents: int = 0
    by_school: dict[int, int] = field(default_factory=dict)


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

    @property
    def by_school(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for v in self.volets:
            for ecole_id, cents in v.by_school.items():
                out[ecole_id] = out.get(ecole_id, 0) + cents
        return out

    @property
    def coverage(self) -> Decimal:
        if not self.spending_cents:
            return Decimal(0)
        return (Decimal(self.aid_cents) / Decimal(self.spending_cents)).quantize(Decimal("0.0001"))


def apply_rate(cents: int, rate: Decimal) -> int:
    return int((Decimal(cents) * rate).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def split(total: int, weights: Mapping[int, int]) -> dict[int, int]:
    """Share ``total`` cents in proportion to ``weights``; parts sum exactly to ``total``."""
    weight_sum = sum(weights.values())
    if weight_sum <= 0 or total == 0:
        return dict.fromkeys(weights, 0)
    exact = {k: Decimal(total) * w / weight_sum for k, w in weights.items()}
    parts = {k: int(v) for k, v in exact.items()}
    rest = total - sum(parts.values())
    for k in sorted(exact, key=lambda k: (exact[k] - parts[k], -k), reverse=True)[:rest]:
        parts[k] += 1
    return parts


def _share_with_caps(
    total: int, weights: Mapping[int, int], caps: Mapping[int, int]
) -> dict[int, int]:
    """Split ``total`` by ``weights``, no part above its cap: a capped school keeps its cap
    and the rest is shared again among the others (``total`` never exceeds the caps' sum)."""
    result: dict[int, int] = {}
    open_weights = dict(weights)
    remaining = total
    while open_weights:
        shares = split(remaining, open_weights)
        over = [k for k, v in shares.items() if k in caps and v > caps[k]]
        if not over:
            result.update(shares)
            break
        for k in over:
            result[k] = caps[k]
            remaining -= caps[k]
            del open_weights[k]
    return result


def _tiered(base: int, tiers: Sequence[Tier], steps: list[Step], volet: str) -> int:
    aid, lower = 0, 0
    for tier in tiers:
        upper = base if tier.up_to_cents is None else min(base, tier.up_to_cents)
        if upper <= lower:
            break
        part = apply_rate(upper - lower, tier.rate)
        steps.append(
            Step("tier", part, volet=volet, params={"rate": tier.rate, "from": lower, "to": upper})
        )
        aid += part
        lower = upper
    return aid


def compute_aid(
    rules: SchemeRules,
    schools: Sequence[SchoolFacts],
    spending: Sequence[Spending],
    convention_max_cents: int | None = None,
) -> AidResult:
    """(scheme, dossier, expenses) → aid per volet and per school, with every step."""
    steps: list[Step] = []
    facts = {s.ecole_id: s for s in schools}
    results = []
    for volet in rules.volets:
        result = VoletResult(volet.code, volet.label)
        per_school: dict[int, int] = {}
        for line in spending:
            if line.volet != volet.code:
                continue
            amount = line.amount_ttc_cents if rules.vat_included else line.amount_ht_cents
            per_school[line.ecole_id] = per_school.get(line.ecole_id, 0) + amount
        if not per_school:
            continue
        base: dict[int, int] = {}
        for ecole_id, spent in sorted(per_school.items()):
            school = facts.get(ecole_id)
            result.spending_cents += spent
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
                            {
                                "basis": volet.spending_cap.basis.value,
                                "unit": volet.spending_cap.amount_cents,
                                "classes": school.classes,
                                "pupils": school.pupils,
                                "years": volet.spending_cap.years,
                            },
                        )
                    )
            base[ecole_id] = eligible
        result.eligible_cents = sum(base.values())
        steps.append(Step("eligible", result.eligible_cents, volet=volet.code))
        aid = _tiered(result.eligible_cents, volet.tiers, steps, volet.code)
        caps: dict[int, int] = {}
        if volet.aid_cap:
            caps = {e: volet.aid_cap.limit(facts[e].classes, facts[e].pupils) for e in base}
            if aid > sum(caps.values()):
                aid = sum(caps.values())
                steps.append(
                    Step(
                        "aid_cap_total",
                        aid,
                        None,
                        volet.code,
                        {
                            "basis": volet.aid_cap.basis.value,
                            "unit": volet.aid_cap.amount_cents,
                            "years": volet.aid_cap.years,
                        },
                    )
                )
        shares = _share_with_caps(aid, base, caps)
        unconstrained = split(aid, base)
        for ecole_id, cents in shares.items():
            if ecole_id in caps and unconstrained[ecole_id] > caps[ecole_id]:
                school = facts[ecole_id]
                steps.append(
                    Step(
                        "aid_cap",
                        cents,
                        ecole_id,
                        volet.code,
                        {
                            "basis": volet.aid_cap.basis.value,  # type: ignore[union-attr]
                            "unit": volet.aid_cap.amount_cents,  # type: ignore[union-attr]
                            "classes": school.classes,
                            "pupils": school.pupils,
                            "years": volet.aid_cap.years,
                        },
                    )
                )  # type: ignore[union-attr]
        result.by_school = shares
        result.aid_cents = sum(shares.values())
        steps.append(Step("volet_aid", result.aid_cents, volet=volet.code))
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
            r.by_school = split(r.aid_cents, r.by_school)
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
    )
