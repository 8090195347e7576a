"""The aid computation, by worked examples checked by hand and by properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.grants.aid import SchemeRules, SchoolFacts, Spending, compute_aid, split
from inventory.grants.presets import LABEL_ECOLES_NUMERIQUES_2020, SNEE_2021

SNEE = SchemeRules.from_data(SNEE_2021["rules"])
LABEL = SchemeRules.from_data(LABEL_ECOLES_NUMERIQUES_2020["rules"])
E = 100  # cents per euro


def school(ecole_id, classes, pupils=0):
    return SchoolFacts(ecole_id, f"École {ecole_id}", classes, pupils)


def spend(ecole_id, euros, volet="equipement"):
    return Spending(volet, ecole_id, int(euros * E / Decimal("1.2")), int(euros * E))


def test_three_classes_at_9000():
    """A 3-class school spends 9,000 € TTC on equipment.

    Subsidised spending is capped at 3 × 3,500 € = 10,500 €, above 9,000 €: the whole
    9,000 € is eligible. 9,000 € is under the 200,000 € tier, so the aid is 70 %:
    9,000 × 0.70 = 6,300 €.
    """
    result = compute_aid(SNEE, [school(1, 3)], [spend(1, 9_000)])
    assert result.eligible_cents == 9_000 * E
    assert result.aid_cents == 6_300 * E
    assert result.by_school == {1: 6_300 * E}


def test_three_classes_at_15000():
    """The same school spends 15,000 €: only 3 × 3,500 € = 10,500 € is subsidised,
    and 10,500 × 0.70 = 7,350 € of aid (49 % of what was spent)."""
    result = compute_aid(SNEE, [school(1, 3)], [spend(1, 15_000)])
    assert result.eligible_cents == 10_500 * E
    assert result.aid_cents == 7_350 * E
    assert result.coverage == Decimal("0.49")
    assert [s.text for s in result.steps].count("spending_cap") == 1


def test_rpi_with_four_schools():
    """An RPI covers four schools of 2, 3, 1 and 4 classes (caps 7,000, 10,500, 3,500 and
    14,000 €). They spend 8,000, 9,000, 3,000 and 20,000 €.

    - school 1: 8,000 capped at 7,000 €;
    - school 2: 9,000 € under its cap, all eligible;
    - school 3: 3,000 € is below the 3,500 € minimum per school: not eligible;
    - school 4: 20,000 capped at 14,000 €.
    Eligible 7,000 + 9,000 + 14,000 = 30,000 €, aid 70 % = 21,000 €, shared in proportion:
    4,900, 6,300, 0 and 9,800 €.
    """
    schools = [school(1, 2), school(2, 3), school(3, 1), school(4, 4)]
    lines = [spend(1, 8_000), spend(2, 9_000), spend(3, 3_000), spend(4, 20_000)]
    result = compute_aid(SNEE, schools, lines)
    assert result.spending_cents == 40_000 * E
    assert result.eligible_cents == 30_000 * E
    assert result.aid_cents == 21_000 * E
    assert result.by_school == {1: 4_900 * E, 2: 6_300 * E, 4: 9_800 * E}
    assert any(s.text == "below_minimum" and s.ecole_id == 3 for s in result.steps)


def test_services_volet_with_the_per_pupil_cap():
    """A school of 120 pupils spends 6,000 € on digital resources. 50 % would be 3,000 €,
    but the aid is capped at 20 € per pupil: 120 × 20 = 2,400 €."""
    result = compute_aid(SNEE, [school(1, 5, pupils=120)], [spend(1, 6_000, "services")])
    assert result.aid_cents == 2_400 * E
    small = compute_aid(SNEE, [school(1, 5, pupils=120)], [spend(1, 4_000, "services")])
    assert small.aid_cents == 2_000 * E  # 50 % of 4,000 € is under the cap


def test_convention_maximum():
    """The 3-class school spending 15,000 € would get 7,350 €, but its convention states a
    maximum subsidy of 6,000 €: the aid is 6,000 €."""
    result = compute_aid(SNEE, [school(1, 3)], [spend(1, 15_000)], convention_max_cents=6_000 * E)
    assert result.computed_cents == 7_350 * E
    assert result.aid_cents == 6_000 * E and result.capped_by_convention
    assert result.by_school == {1: 6_000 * E}


def test_two_tiers_above_200000():
    """A city covers 80 classes and spends 300,000 €: the cap is 80 × 3,500 = 280,000 €.
    Aid: 70 % of the first 200,000 € (140,000 €) + 50 % of the next 80,000 € (40,000 €)
    = 180,000 €."""
    result = compute_aid(SNEE, [school(1, 80)], [spend(1, 300_000)])
    assert result.eligible_cents == 280_000 * E
    assert result.aid_cents == 180_000 * E


def test_label_ecoles_numeriques_2020():
    """50 % of spending between 3,000 € and 14,000 € per school: 2,500 € → nothing;
    10,000 € → 5,000 €; 20,000 € → 50 % of 14,000 € = 7,000 €."""
    schools = [school(1, 2), school(2, 2), school(3, 2)]
    result = compute_aid(LABEL, schools, [spend(1, 2_500), spend(2, 10_000), spend(3, 20_000)])
    assert result.by_school == {2: 5_000 * E, 3: 7_000 * E}


def test_spending_for_a_school_the_dossier_does_not_cover_is_not_eligible():
    result = compute_aid(SNEE, [school(1, 3)], [spend(1, 9_000), spend(2, 9_000)])
    assert result.aid_cents == 6_300 * E
    assert any(s.text == "not_covered" for s in result.steps)


def test_split_adds_up_exactly():
    assert split(100, {1: 1, 2: 1, 3: 1}) == {1: 34, 2: 33, 3: 33}
    assert sum(split(1_000_001, {1: 3, 2: 7, 3: 11}).values()) == 1_000_001
    assert split(0, {1: 5}) == {1: 0}


# -- national figures, in spirit --------------------------------------------------------
DOSSIERS = [  # (classes per school, spending per school in euros)
    ([3], [6_000]),
    ([5], [12_000]),
    ([2, 3], [6_000, 9_000]),
    ([8], [24_000]),
    ([4, 4], [10_000, 11_000]),
    ([10], [40_000]),
    ([6], [16_000]),
    ([3, 2, 5], [9_000, 6_000, 18_000]),
    ([12], [45_000]),
    ([7], [20_000]),
]


def test_ten_dossiers_land_between_50_and_70_percent():
    coverages = []
    for classes, amounts in DOSSIERS:
        schools = [school(i, c) for i, c in enumerate(classes)]
        lines = [spend(i, a) for i, a in enumerate(amounts)]
        coverages.append(compute_aid(SNEE, schools, lines).coverage)
    assert all(Decimal("0.50") <= c <= Decimal("0.70") for c in coverages), coverages
    median = sorted(coverages)[len(coverages) // 2]
    assert Decimal("0.55") <= median <= Decimal("0.70")


# -- properties -------------------------------------------------------------------------
amounts = st.integers(min_value=0, max_value=50_000_000)
school_sets = st.lists(
    st.tuples(st.integers(1, 20), st.integers(0, 600), amounts, amounts),
    min_size=1,
    max_size=6,
)


def _dossier(data):
    schools = [school(i, c, p) for i, (c, p, _, _) in enumerate(data)]
    lines = [Spending("equipement", i, eq, eq) for i, (_, _, eq, _) in enumerate(data)]
    lines += [Spending("services", i, sv, sv) for i, (_, _, _, sv) in enumerate(data)]
    return schools, lines


@settings(max_examples=300, deadline=None)
@given(school_sets, st.one_of(st.none(), amounts))
def test_aid_never_exceeds_spending_times_the_top_rate_nor_the_maximum(data, maximum):
    schools, lines = _dossier(data)
    result = compute_aid(SNEE, schools, lines, maximum)
    for volet in result.volets:
        top = SNEE.volet(volet.code).top_rate
        # Each tier rounds half up once: at most one cent above the exact product.
        assert volet.aid_cents <= int(Decimal(volet.spending_cents) * top) + 1
    if maximum is not None:
        assert result.aid_cents <= maximum
    assert result.aid_cents == sum(result.by_school.values())


@settings(max_examples=300, deadline=None)
@given(
    school_sets,
    st.integers(0, 5),
    st.integers(1, 10_000_000),
    st.sampled_from(["equipement", "services"]),
    st.one_of(st.none(), amounts),
)
def test_aid_is_monotonic_in_spending(data, which, extra, volet, maximum):
    schools, lines = _dossier(data)
    before = compute_aid(SNEE, schools, lines, maximum).aid_cents
    target = which % len(schools)
    more = [*lines, Spending(volet, target, extra, extra)]
    after = compute_aid(SNEE, schools, more, maximum).aid_cents
    assert after >= before


@pytest.mark.parametrize("preset", [SNEE_2021, LABEL_ECOLES_NUMERIQUES_2020])
def test_presets_parse(preset):
    rules = SchemeRules.from_data(preset["rules"])
    assert rules.volets and all(v.tiers for v in rules.volets)
