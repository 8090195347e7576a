"""The aid computation, by worked examples checked by hand, to the cent.

Unless a case says otherwise, the rules are the SNEE 2021 preset (amounts incl. VAT):
équipement 70 % up to 200,000 € of eligible spending and 50 % above, spending capped at
3,500 € per class, at least 3,500 € per school; services 50 %, aid capped at 20 € per
pupil; eligible spending from 14 January 2021 to 31 December 2022. The properties that hold
for any rules are in test_aid_properties.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from inventory.grants.aid import (
    DateProblem,
    SchemeRules,
    SchoolFacts,
    Spending,
    compute_aid,
    split,
)
from inventory.grants.presets import LABEL_ECOLES_NUMERIQUES_2020, SNEE_2021

SNEE = SchemeRules.from_data(SNEE_2021["rules"])
LABEL = SchemeRules.from_data(LABEL_ECOLES_NUMERIQUES_2020["rules"])
E = 100  # cents per euro
IN_2021 = date(2021, 10, 4)  # within both presets' spending windows


def school(ecole_id, classes, pupils=0):
    return SchoolFacts(ecole_id, f"École {ecole_id}", classes, pupils)


def spend(ecole_id, euros, volet="equipement", on=IN_2021, expense=None):
    return Spending(volet, ecole_id, int(euros * E / Decimal("1.2")), int(euros * E), on, expense)


def cents(amount, volet="equipement", ecole_id=1, on=IN_2021, expense=None):
    return Spending(volet, ecole_id, amount, amount, on, expense)


def rules(*volets, **extra):
    return SchemeRules.from_data({"volets": list(volets), **extra})


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
    assert result.eligible_by_school == {1: 7_000 * E, 2: 9_000 * E, 4: 14_000 * E}
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
    assert result.spending_by_school == {1: 9_000 * E, 2: 9_000 * E}
    assert result.eligible_by_school == {1: 9_000 * E}
    assert any(s.text == "not_covered" for s in result.steps)


# -- each school's caps are its own ------------------------------------------------------
def test_per_pupil_caps_of_two_schools_are_not_pooled():
    """Services: One (120 pupils: aid cap 120 × 20 = 2,400 €) spends 12,000 €; Two (1,000
    pupils: cap 20,000 €) spends 1,000 €.

    50 % of the 13,000 € is 6,500 €, shared in proportion: One 6,000 €, Two 500 €. One is
    held to its cap, 2,400 €; Two keeps its 500 € (50 % of its own 1,000 €). The aid is
    2,900 €. (Pooling the caps gave Two the 3,600 € One could not take: 4,100 € of aid for
    1,000 € spent.)"""
    schools = [school(1, 5, pupils=120), school(2, 40, pupils=1_000)]
    lines = [spend(1, 12_000, "services"), spend(2, 1_000, "services")]
    result = compute_aid(SNEE, schools, lines)
    assert result.by_school == {1: 2_400 * E, 2: 500 * E}
    assert result.aid_cents == 2_900 * E
    (volet,) = result.volets
    assert volet.tiered_cents == 6_500 * E
    capped = [s for s in result.steps if s.text == "aid_cap"]
    assert [(s.ecole_id, s.amount_cents, s.params["share"]) for s in capped] == [
        (1, 2_400 * E, 6_000 * E)
    ]


def test_per_class_spending_caps_of_two_schools_differ():
    """Équipement: A (2 classes: cap 7,000 €) and B (6 classes: cap 21,000 €) spend
    10,000 € each. A's eligible spending is 7,000 €, B's 10,000 €: 17,000 €, and 70 % of it
    is 11,900 €: A 4,900 € (70 % of 7,000), B 7,000 € (70 % of 10,000)."""
    result = compute_aid(SNEE, [school(1, 2), school(2, 6)], [spend(1, 10_000), spend(2, 10_000)])
    assert result.eligible_by_school == {1: 7_000 * E, 2: 10_000 * E}
    assert result.by_school == {1: 4_900 * E, 2: 7_000 * E}
    assert result.aid_cents == 11_900 * E


def test_per_class_aid_caps_of_two_schools_differ():
    """A scheme paying 50 %, with the aid capped at 1,000 € per class. A (2 classes: cap
    2,000 €) and B (10 classes: cap 10,000 €) spend 10,000 € each. The rate gives 10,000 €,
    5,000 € each; A is held to 2,000 €, B keeps 5,000 €: 7,000 €, and A's 3,000 € go to
    nobody."""
    scheme = rules(
        {
            "code": "x",
            "tiers": [{"rate": "0.50"}],
            "aid_cap": {"basis": "class", "amount_cents": 1_000 * E},
        }
    )
    lines = [spend(1, 10_000, "x"), spend(2, 10_000, "x")]
    result = compute_aid(scheme, [school(1, 2), school(2, 10)], lines)
    assert result.by_school == {1: 2_000 * E, 2: 5_000 * E}
    assert result.aid_cents == 7_000 * E
    assert result.volets[0].tiered_cents == 10_000 * E


def test_flat_aid_cap_per_school_and_a_minimum():
    """50 %, at least 3,000 € per school, aid capped at 5,000 € per school. A spends
    20,000 € (50 %: 10,000 €, held to 5,000 €), B 2,000 € (below the minimum: nothing), C
    6,000 € (3,000 €). The rate gives 13,000 € on 26,000 €; the aid is 8,000 €."""
    scheme = rules(
        {
            "code": "x",
            "tiers": [{"rate": "0.50"}],
            "min_per_school_cents": 3_000 * E,
            "aid_cap": {"basis": "school", "amount_cents": 5_000 * E},
        }
    )
    schools = [school(1, 4), school(2, 1), school(3, 2)]
    lines = [spend(1, 20_000, "x"), spend(2, 2_000, "x"), spend(3, 6_000, "x")]
    result = compute_aid(scheme, schools, lines)
    assert result.by_school == {1: 5_000 * E, 3: 3_000 * E}
    assert result.aid_cents == 8_000 * E
    assert result.eligible_cents == 26_000 * E


def test_two_tiers_shared_by_two_schools():
    """A (40 classes: cap 140,000 €) spends 150,000 €, B (40 classes) 130,000 €. Eligible:
    140,000 + 130,000 = 270,000 €. Aid: 70 % of 200,000 € (140,000 €) + 50 % of 70,000 €
    (35,000 €) = 175,000 €, a rate of 64.81 % shared in proportion to the bases:
    A 175,000 × 140/270 = 90,740.740… €, B 175,000 × 130/270 = 84,259.259… €. In cents the
    floors (9,074,074 + 8,425,925) leave one cent, which goes to the larger remainder (B):
    A 90,740.74 €, B 84,259.26 €. Each is under 70 % of its own base (98,000 and 91,000 €)."""
    result = compute_aid(
        SNEE, [school(1, 40), school(2, 40)], [spend(1, 150_000), spend(2, 130_000)]
    )
    assert result.aid_cents == 17_500_000
    assert result.by_school == {1: 9_074_074, 2: 8_425_926}


def test_convention_maximum_cuts_two_volets_and_two_schools():
    """Équipement: A (3 classes) spends 9,000 €, B (2 classes) 6,000 €: 70 % is 6,300 and
    4,200 €, 10,500 €. Services: A (50 pupils, cap 1,000 €) spends 1,000 €, B (30 pupils,
    cap 600 €) 600 €: 50 % is 500 and 300 €, 800 €. Computed: 11,300 €; the convention's
    maximum is 10,000 €.

    Per volet, in proportion: équipement 10,000 × 10,500/11,300 = 9,292.035… €, services
    707.964… €; in cents the floors leave one cent, to équipement (.54 against .46):
    9,292.04 € and 707.96 €. Per school, équipement 929,204 × 6/10 = 557,522.4 and
    371,681.6 cents → A 5,575.22 €, B 3,716.82 € (the cent to the larger remainder, B);
    services 70,796 × 5/8 = 44,247.5 and 26,548.5 → tie, the cent to the first school:
    A 442.48 €, B 265.48 €. A: 6,017.70 €, B: 3,982.30 €, 10,000.00 € in all."""
    schools = [school(1, 3, pupils=50), school(2, 2, pupils=30)]
    lines = [
        spend(1, 9_000),
        spend(2, 6_000),
        spend(1, 1_000, "services"),
        spend(2, 600, "services"),
    ]
    result = compute_aid(SNEE, schools, lines, convention_max_cents=10_000 * E)
    assert result.computed_cents == 11_300 * E
    assert result.aid_cents == 10_000 * E
    equipment, services = result.volets
    assert (equipment.aid_cents, services.aid_cents) == (929_204, 70_796)
    assert equipment.by_school == {1: 557_522, 2: 371_682}
    assert services.by_school == {1: 44_248, 2: 26_548}
    assert result.by_school == {1: 601_770, 2: 398_230}


# -- the scheme's dates --------------------------------------------------------------------
def test_invoices_outside_the_window_or_undated_count_for_nothing():
    """A 3-class school: 9,000 € invoiced on 4 October 2021, 3,000 € on 1 February 2023
    (after the end of eligible spending, 31 December 2022) and 2,000 € without a date. Only
    the 9,000 € count: aid 70 % = 6,300 €; the 5,000 € are set aside with their reasons."""
    lines = [
        spend(1, 9_000, expense=1),
        spend(1, 3_000, on=date(2023, 2, 1), expense=2),
        spend(1, 2_000, on=None, expense=3),
    ]
    result = compute_aid(SNEE, [school(1, 3)], lines)
    assert result.aid_cents == 6_300 * E
    assert result.spending_cents == 9_000 * E
    assert result.excluded_cents == 5_000 * E
    assert [(x.expense_id, x.reason, x.amount_cents) for x in result.excluded] == [
        (2, DateProblem.AFTER, 3_000 * E),
        (3, DateProblem.UNDATED, 2_000 * E),
    ]
    assert [s.text for s in result.steps][:2] == ["after_window", "undated"]


def test_the_window_includes_its_first_and_last_days():
    """4,000 € invoiced on 14 January 2021 and 3,000 € on 31 December 2022 count; 1,000 €
    invoiced on 13 January 2021 does not. Eligible 7,000 € (under the 10,500 € cap of 3
    classes): aid 4,900 €."""
    lines = [
        spend(1, 4_000, on=date(2021, 1, 14)),
        spend(1, 3_000, on=date(2022, 12, 31)),
        spend(1, 1_000, on=date(2021, 1, 13)),
    ]
    result = compute_aid(SNEE, [school(1, 3)], lines)
    assert result.eligible_cents == 7_000 * E
    assert result.aid_cents == 4_900 * E
    assert [x.reason for x in result.excluded] == [DateProblem.BEFORE]


def test_an_invoice_out_of_the_window_does_not_make_up_the_minimum():
    """3,000 € in the window and 1,000 € invoiced on 2 January 2023: the school's spending
    is 3,000 €, below the 3,500 € minimum. No aid."""
    lines = [spend(1, 3_000), spend(1, 1_000, on=date(2023, 1, 2))]
    result = compute_aid(SNEE, [school(1, 3)], lines)
    assert result.aid_cents == 0
    assert any(s.text == "below_minimum" for s in result.steps)


def test_without_a_window_every_date_counts():
    """A scheme without dates takes the undated invoice and the one of 2030: 50 % of
    1,000 € = 500 €."""
    scheme = rules({"code": "x", "tiers": [{"rate": "0.50"}]})
    lines = [spend(1, 400, "x", on=None), spend(1, 600, "x", on=date(2030, 1, 1))]
    assert compute_aid(scheme, [school(1, 1)], lines).aid_cents == 500 * E


# -- rounding ------------------------------------------------------------------------------
def test_shares_round_by_largest_remainder():
    """50 % of two schools' 0.03 € each: the rate gives 0.03 € on 0.06 €, 1.5 cents each.
    The floors (1 + 1) leave a cent; the remainders tie, so the first school takes it:
    0.02 € and 0.01 € (0.02 € is 50 % of 0.03 € rounded half up: within its rate)."""
    scheme = rules({"code": "x", "tiers": [{"rate": "0.50"}]})
    result = compute_aid(scheme, [school(1, 1), school(2, 1)], [cents(3, "x"), cents(3, "x", 2)])
    assert result.by_school == {1: 2, 2: 1}


def test_no_share_rounds_above_its_schools_rate():
    """40 % of two schools' 0.01 € each: the rate gives round(0.8) = 1 cent on 0.02 €, but
    either school taking it would get more than 40 % of its 0.01 € (0.004 €, rounded to 0):
    the cent is not paid, and the breakdown says whose share it was."""
    scheme = rules({"code": "x", "tiers": [{"rate": "0.40"}]})
    result = compute_aid(scheme, [school(1, 1), school(2, 1)], [cents(1, "x"), cents(1, "x", 2)])
    assert result.volets[0].tiered_cents == 1
    assert result.aid_cents == 0 and result.by_school == {}
    limited = [s for s in result.steps if s.text == "rate_limit"]
    assert [(s.ecole_id, s.amount_cents, s.params["share"]) for s in limited] == [(1, 0, 1)]


def test_tiers_are_rounded_once_on_their_total():
    """50 % up to 1,000.01 €, then 30 %, on 1,000.06 €: 500.005 € + 0.015 € = 500.02 €
    exactly, rounded once: 500.02 € (rounding each tier would give 500.01 + 0.02 = 500.03 €,
    a cent above what the rates say). The tiers' lines share the total: 500.01 € and
    0.01 € (the remainders tie; the cent goes to the first)."""
    scheme = rules(
        {"code": "x", "tiers": [{"rate": "0.50", "up_to_cents": 100_001}, {"rate": "0.30"}]}
    )
    result = compute_aid(scheme, [school(1, 1)], [cents(100_006, "x")])
    assert result.aid_cents == 50_002
    assert [s.amount_cents for s in result.steps if s.text == "tier"] == [50_001, 1]


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


@pytest.mark.parametrize("preset", [SNEE_2021, LABEL_ECOLES_NUMERIQUES_2020])
def test_presets_parse(preset):
    typed = SchemeRules.from_data(preset["rules"])
    assert typed.volets and all(v.tiers for v in typed.volets)
    assert typed.spending_from and typed.spending_to and typed.spending_from < typed.spending_to
    if typed.claim_deadline:
        assert typed.spending_to <= typed.claim_deadline


def test_snee_2021_dates():
    assert (SNEE.spending_from, SNEE.spending_to, SNEE.claim_deadline) == (
        date(2021, 1, 14),
        date(2022, 12, 31),
        date(2023, 6, 30),
    )
