"""The aid computation in plain words: every kind of step becomes a sentence that a finance
officer can check with a calculator."""

from __future__ import annotations

from datetime import date

import pytest

from inventory.grants.aid import SchemeRules, SchoolFacts, Spending, compute_aid
from inventory.grants.breakdown import explain
from inventory.grants.common import GrantError
from inventory.grants.presets import LABEL_ECOLES_NUMERIQUES_2020, SNEE_2021
from inventory.grants.schemes import (
    SchemeDates,
    check_rules,
    parse_rules,
    rules_with_dates,
    rules_without_dates,
)

E = 100
NBSP = "\u00a0"
ON = date(2021, 10, 4)  # within the presets' spending windows


def eur(text):
    return f"{text}{NBSP}€"


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def lines(rules_data, schools, spending, convention_max=None):
    rules = SchemeRules.from_data(rules_data)
    result = compute_aid(rules, schools, spending, convention_max)
    names = {s.ecole_id: s.name for s in schools} | {9: "Outside"}
    invoices = {1: "Speechi F-1", 2: "Dell F-2"}
    return [line.text for line in explain(result, rules, schools, names, invoices)]


def test_two_tiers_minimum_and_convention_maximum(english):
    """80 classes spending 300,000 €: capped at 280,000 €; 70 % of the first 200,000 € and
    50 % of the next 80,000 € make 180,000 €, cut to the convention's 150,000 €. A second
    school spending 2,000 € is under the 3,500 € minimum; its invoice of 1,200 € dated
    5 January 2023, after the spending window, is set aside first."""
    schools = [SchoolFacts(1, "Big", 80, 2000), SchoolFacts(2, "Small", 1, 20)]
    spending = [
        Spending("equipement", 1, 25_000_000, 30_000_000, ON, 1),
        Spending("equipement", 2, 166_667, 200_000, ON, 2),
        Spending("equipement", 2, 100_000, 120_000, date(2023, 1, 5), 2),
    ]
    text = lines(SNEE_2021["rules"], schools, spending, convention_max=150_000 * E)
    assert text == [
        "Équipement (matériel et travaux de réseau)",
        f"Invoice Dell F-2 (Small, {eur('1,200.00')}): dated 5 Jan 2023, after the end of "
        "eligible spending (31 Dec 2022): not eligible",
        f"Big: spending {eur('300,000.00')} capped at {eur('280,000.00')} "
        f"(80 classes × {eur('3,500.00')})",
        f"Small: spending {eur('2,000.00')}, below the minimum of {eur('3,500.00')} per school: "
        "not eligible",
        f"Eligible spending: {eur('280,000.00')}",
        f"70% of {eur('200,000.00')} (the part from {eur('0.00')} to {eur('200,000.00')}) = "
        f"{eur('140,000.00')}",
        f"50% of {eur('80,000.00')} (the part from {eur('200,000.00')} to {eur('280,000.00')}) = "
        f"{eur('40,000.00')}",
        f"Big: aid {eur('180,000.00')}",
        f"Aid for this volet: {eur('180,000.00')}",
        f"Convention maximum: {eur('150,000.00')} (the computed aid was {eur('180,000.00')})",
        "Aid per school",
        f"Big: {eur('150,000.00')}",
        f"Small: {eur('0.00')}",
        f"State aid: {eur('150,000.00')}",
    ]


def test_per_pupil_aid_cap_flat_cap_and_uncovered_school(english):
    """Services: 50 % of 7,000 € is 3,500 €; One's share (6/7, 3,000 €) is above its cap of
    120 × 20 € = 2,400 €, and Two keeps its own share, 500 € (50 % of its 1,000 €): 2,900 €.

    (This expectation used to be 3,500 €: One's 600 € above its cap went to Two, 1,100 € of
    aid for 1,000 € spent. Each school's cap is its own.)"""
    schools = [SchoolFacts(1, "One", 5, 120), SchoolFacts(2, "Two", 20, 1000)]
    spending = [
        Spending("services", 1, 500_000, 600_000, ON),
        Spending("services", 2, 0, 100_000, ON),
    ]
    text = lines(SNEE_2021["rules"], schools, spending)
    assert (
        f"One: aid limited to {eur('2,400.00')} (120 pupils × {eur('20.00')}), instead of its "
        f"share of {eur('3,000.00')}"
    ) in text
    assert (
        f"Two: aid {eur('500.00')} (for {eur('1,000.00')} of the {eur('7,000.00')} eligible)"
        in (text)
    )
    assert (
        f"Aid for this volet: {eur('2,900.00')} (the rates give {eur('3,500.00')}, less what the "
        "schools' own limits leave out)"
    ) in text
    assert text[-4:] == [
        "Aid per school",
        f"One: {eur('2,400.00')}",
        f"Two: {eur('500.00')}",
        f"State aid: {eur('2,900.00')}",
    ]
    schools = schools[:1]
    text = lines(SNEE_2021["rules"], schools, spending[:1])
    assert (
        f"One: aid limited to {eur('2,400.00')} (120 pupils × {eur('20.00')}), instead of its "
        f"share of {eur('3,000.00')}"
    ) in text
    assert text[-1] == f"State aid: {eur('2,400.00')}"
    text = lines(
        LABEL_ECOLES_NUMERIQUES_2020["rules"],
        schools,
        [
            Spending("equipement", 1, 1_666_667, 2_000_000, ON),
            Spending("equipement", 9, 0, 500_000, ON),
            Spending("equipement", 1, 100_000, 120_000, None, 1),
        ],
    )
    assert (
        f"One: spending {eur('20,000.00')} capped at {eur('14,000.00')} "
        f"({eur('14,000.00')} per school)"
    ) in text
    assert any(t.startswith("Outside: spending") and "does not cover" in t for t in text)
    assert (
        f"Invoice Speechi F-1 (One, {eur('1,200.00')}): no invoice date, so nothing shows it "
        "lies within eligible spending (from 1 Jan 2020 to 31 Dec 2021): not eligible"
    ) in text
    assert text[-1] == f"State aid: {eur('7,000.00')}"


def test_rules_are_checked_before_they_are_saved():
    good = check_rules(SNEE_2021["rules"])
    assert good is SNEE_2021["rules"]
    for bad in (
        {},
        {"volets": []},
        {"volets": [{"code": "x"}]},
        {"volets": [{"code": "x", "tiers": [{"rate": "1.5"}]}]},
        {"volets": [{"code": "x", "tiers": [{"rate": "0.5", "up_to_cents": "lots"}]}]},
        {"volets": [{"code": "x", "tiers": [{"rate": "0.5"}, {"rate": "0.4", "up_to_cents": 10}]}]},
        {"volets": [{"code": "x", "tiers": [{"rate": "0.5"}]}] * 2},
        {"volets": [{"code": "X Y", "tiers": [{"rate": "0.5"}]}]},
    ):
        with pytest.raises(GrantError) as err:
            check_rules(bad)
        assert err.value.field == "rules"
    with pytest.raises(GrantError):
        parse_rules("{not json")


def test_the_rules_dates_are_days_in_order(english):
    """Spending from ≤ spending to ≤ claim deadline, each an ISO day; the dates given in
    their own fields go into the rules, which may not give others."""
    volets = {"volets": [{"code": "x", "tiers": [{"rate": "0.5"}]}]}
    ok = {**volets, "spending_from": "2021-01-14", "spending_to": "2022-12-31"}
    assert check_rules({**ok, "claim_deadline": "2022-12-31"})
    for bad, field, message in (
        ({**volets, "spending_to": "31/12/2022"}, "rules", "spending_to is not a day"),
        ({**ok, "spending_to": "2021-01-13"}, "spending_to", "comes before its start"),
        ({**ok, "claim_deadline": "2022-12-30"}, "claim_deadline", "before the end of eligible"),
        (
            {**volets, "spending_from": "2021-02-01", "claim_deadline": "2021-01-31"},
            "claim_deadline",
            "before the end of eligible",
        ),
    ):
        with pytest.raises(GrantError) as err:
            check_rules(bad)
        assert err.value.field == field and message in str(err.value.message), bad
    dates = SchemeDates(date(2021, 1, 14), date(2022, 12, 31), date(2023, 6, 30))
    merged = rules_with_dates(volets, dates)
    assert merged["claim_deadline"] == "2023-06-30" and SchemeDates.of(merged) == dates
    assert rules_with_dates({**volets, "spending_to": "2022-12-31"}, dates)
    with pytest.raises(GrantError) as err:
        rules_with_dates({**volets, "spending_to": "2023-12-31"}, dates)
    assert err.value.field == "rules" and "in their fields" in str(err.value.message)
    assert rules_without_dates(merged) == volets
