"""What the aid computation guarantees for any rules and any dossier (hypothesis).

Random schemes (one to three volets; one to three rate tiers of any rates; spending and aid
caps per class, per pupil or per school, over one to three years; minimums per school;
excl. or incl. VAT; a spending window or none), random dossiers (one to six schools with
their classes and pupils; lines of spending over the volets, a volet the rules do not know,
schools the dossier does not cover, invoice dates in, before, after the window or missing)
and a convention maximum or none. The checks compute their own expectations from the rules,
not from the engine's steps:

- per school and volet: spending in the window; eligible base = min(spending, its own cap),
  or nothing below the minimum or for a school not covered; aid ≤ its own aid cap,
  ≤ base × top rate (rounded half up), ≤ its proportional share of the tiered aid (rounded
  up), and ≥ that share's whole cents unless one of its limits holds it;
- per volet: aid = the schools' aids ≤ the tiered aid on the total base, which is that
  base's tiers rounded half up once, ≤ base × top rate;
- in total: the volets add up, the convention maximum cuts last and no school gains by it;
- the same input gives the same result, whatever the order of its lines and schools.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.grants.aid import SchemeRules, SchoolFacts, Spending, apply_rate, compute_aid

DAY0 = date(2021, 1, 1)
days = st.integers(-400, 1_400).map(lambda n: DAY0 + timedelta(days=n))
amounts = st.integers(0, 5_000_000)


@st.composite
def tier_lists(draw: Any) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 3))
    bounds = sorted(
        draw(st.lists(st.integers(1, 20_000_000), min_size=n - 1, max_size=n - 1, unique=True))
    )
    rates = draw(st.lists(st.integers(0, 100), min_size=n, max_size=n))
    return [
        {"rate": str(Decimal(r) / 100), "up_to_cents": bounds[i] if i < n - 1 else None}
        for i, r in enumerate(rates)
    ]


caps = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "basis": st.sampled_from(["class", "pupil", "school"]),
            "amount_cents": st.integers(0, 1_000_000),
            "years": st.integers(1, 3),
        }
    ),
)


@st.composite
def schemes(draw: Any) -> dict[str, Any]:
    volets = []
    for i in range(draw(st.integers(1, 3))):
        volet: dict[str, Any] = {"code": f"v{i}", "tiers": draw(tier_lists())}
        for key in ("spending_cap", "aid_cap"):
            cap = draw(caps)
            if cap is not None:
                volet[key] = cap
        volet["min_per_school_cents"] = draw(st.sampled_from([0, 0, 100_000, 350_000]))
        volets.append(volet)
    data: dict[str, Any] = {"volets": volets, "vat_included": draw(st.booleans())}
    if draw(st.booleans()):
        start, end = sorted([draw(days), draw(days)])
        if draw(st.booleans()):
            data["spending_from"] = start.isoformat()
        data["spending_to"] = end.isoformat()
    return data


@st.composite
def dossiers(draw: Any, codes: list[str]) -> tuple[list[SchoolFacts], list[Spending]]:
    n = draw(st.integers(1, 6))
    schools = [
        SchoolFacts(i, f"É{i}", draw(st.integers(0, 20)), draw(st.integers(0, 600)))
        for i in range(1, n + 1)
    ]
    lines = []
    for expense_id in range(1, draw(st.integers(0, 14)) + 1):
        ht = draw(amounts)
        lines.append(
            Spending(
                draw(st.sampled_from([*codes, "unknown"])),
                draw(st.integers(1, n + 2)),  # n + 1 and n + 2: not covered
                ht,
                ht + draw(st.integers(0, 1_000_000)),
                draw(st.one_of(st.none(), days)),
                expense_id,
            )
        )
    return schools, lines


@st.composite
def cases(draw: Any) -> tuple[dict[str, Any], list[SchoolFacts], list[Spending], int | None]:
    data = draw(schemes())
    schools, lines = draw(dossiers([v["code"] for v in data["volets"]]))
    maximum = draw(st.one_of(st.none(), st.integers(0, 10_000_000)))
    return data, schools, lines, maximum


def in_window(rules: SchemeRules, on: date | None) -> bool:
    start, end = rules.spending_from, rules.spending_to
    if start is None and end is None:
        return True
    return on is not None and (start is None or on >= start) and (end is None or on <= end)


def tiered_by_hand(base: int, tiers: Any) -> int:
    exact, lower = Decimal(0), 0
    for t in tiers:
        upper = base if t.up_to_cents is None else min(base, t.up_to_cents)
        if upper <= lower:
            break
        exact += (upper - lower) * t.rate
        lower = upper
    return int(exact.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


@settings(max_examples=400, deadline=None)
@given(cases())
def test_every_limit_holds_per_school_per_volet_and_in_total(case):
    data, schools, lines, maximum = case
    rules = SchemeRules.from_data(data)
    facts = {s.ecole_id: s for s in schools}
    free = compute_aid(rules, schools, lines)  # before the convention maximum
    cut = compute_aid(rules, schools, lines, maximum)
    assert cut.computed_cents == free.aid_cents == sum(v.aid_cents for v in free.volets)

    expected_out = set()
    for volet_rules in rules.volets:
        mine = [line for line in lines if line.volet == volet_rules.code]
        spent: dict[int, int] = {}
        for line in mine:
            amount = line.amount_ttc_cents if rules.vat_included else line.amount_ht_cents
            if in_window(rules, line.invoice_date):
                spent[line.ecole_id] = spent.get(line.ecole_id, 0) + amount
            else:
                expected_out.add(line.expense_id)
        volet = next((v for v in free.volets if v.code == volet_rules.code), None)
        if volet is None:
            assert not mine
            continue
        assert volet.spending_by_school == spent
        assert volet.spending_cents == sum(spent.values())
        base: dict[int, int] = {}
        for ecole_id, cents in spent.items():
            school = facts.get(ecole_id)
            if school is None or cents < volet_rules.min_per_school_cents:
                continue
            cap = volet_rules.spending_cap
            base[ecole_id] = min(cents, cap.limit(school.classes, school.pupils)) if cap else cents
        assert volet.eligible_by_school == {e: b for e, b in base.items() if b}
        total_base = sum(base.values())
        assert volet.eligible_cents == total_base
        top = volet_rules.top_rate
        tiered = volet.tiered_cents
        assert tiered == tiered_by_hand(total_base, volet_rules.tiers)
        assert tiered <= apply_rate(total_base, top)
        for ecole_id in set(spent) | set(volet.by_school):
            aid = volet.by_school.get(ecole_id, 0)
            b = base.get(ecole_id, 0)
            assert 0 <= aid <= apply_rate(b, top), "no school above its base × the top rate"
            if b == 0:
                assert aid == 0
                continue
            share = Decimal(tiered) * b / total_base
            assert aid <= math.ceil(share), "no school above its proportional share"
            limit = apply_rate(b, top)
            if volet_rules.aid_cap is not None:
                school = facts[ecole_id]
                own_cap = volet_rules.aid_cap.limit(school.classes, school.pupils)
                assert aid <= own_cap, "no school above its own aid cap"
                limit = min(limit, own_cap)
            assert aid >= min(math.floor(share), limit), "nothing withheld without a limit"
            for after in cut.volets:
                if after.code == volet.code:
                    assert after.by_school.get(ecole_id, 0) <= aid
        assert volet.aid_cents == sum(volet.by_school.values()) <= tiered
        assert volet.aid_cents <= apply_rate(volet.spending_cents, top)

    assert {x.expense_id for x in cut.excluded} == expected_out
    assert cut.spending_cents == sum(v.spending_cents for v in cut.volets)
    assert cut.aid_cents == (free.aid_cents if maximum is None else min(free.aid_cents, maximum))
    assert cut.aid_cents == sum(v.aid_cents for v in cut.volets) == sum(cut.by_school.values())
    for v in cut.volets:
        assert v.aid_cents == sum(v.by_school.values())
    assert cut.capped_by_convention == (maximum is not None and free.aid_cents > maximum)


@settings(max_examples=200, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_the_input(case, rnd: random.Random):
    data, schools, lines, maximum = case
    rules = SchemeRules.from_data(data)
    first = compute_aid(rules, schools, lines, maximum)
    assert compute_aid(SchemeRules.from_data(data), list(schools), list(lines), maximum) == first
    shuffled_lines, shuffled_schools = list(lines), list(schools)
    rnd.shuffle(shuffled_lines)
    rnd.shuffle(shuffled_schools)
    again = compute_aid(rules, shuffled_schools, shuffled_lines, maximum)
    assert again.steps == first.steps
    assert again.volets == first.volets
    assert again.aid_cents == first.aid_cents
    assert sorted(again.excluded, key=repr) == sorted(first.excluded, key=repr)


def _falls_with_caps(data: dict[str, Any]) -> bool:
    """A volet whose rates fall as the amount grows, with an aid cap per school: there, more
    spending lowers every school's rate while a capped school cannot take its part."""
    for v in data["volets"]:
        rates = [Decimal(t["rate"]) for t in v["tiers"]]
        if v.get("aid_cap") and any(b < a for a, b in pairwise(rates)):
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(cases(), st.integers(0, 7), st.integers(1, 3_000_000))
def test_more_spending_in_the_window_never_lowers_the_aid(case, which, extra):
    """True of any rules but a volet with falling rates and an aid cap (see above)."""
    data, schools, lines, maximum = case
    if _falls_with_caps(data):
        data = {**data, "volets": [{**v, "aid_cap": None} for v in data["volets"]]}
    rules = SchemeRules.from_data(data)
    before = compute_aid(rules, schools, lines, maximum).aid_cents
    volet = rules.volets[which % len(rules.volets)].code
    on = rules.spending_to or rules.spending_from or DAY0
    more = [*lines, Spending(volet, schools[which % len(schools)].ecole_id, extra, extra, on, 99)]
    assert compute_aid(rules, schools, more, maximum).aid_cents >= before
