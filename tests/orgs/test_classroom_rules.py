"""How classes are spread over levels (pure rule)."""

import pytest

from inventory.orgs.services import levels_for_classes


def test_one_class_per_level_when_counts_match():
    plan = levels_for_classes(5, {"CP": 25, "CE1": 25, "CE2": 25, "CM1": 25, "CM2": 25})
    assert [lv for lv, _ in plan] == [["CP"], ["CE1"], ["CE2"], ["CM1"], ["CM2"]]
    assert [p for _, p in plan] == [25] * 5


def test_bigger_levels_get_more_classes_and_pupils_are_kept():
    per_level = {"CP": 56, "CE1": 68, "CE2": 52, "CM1": 56, "CM2": 57}
    plan = levels_for_classes(12, per_level)
    assert len(plan) == 12
    assert sum(p for _, p in plan) == sum(per_level.values())
    assert sum(1 for lv, _ in plan if lv == ["CE1"]) == 3


def test_fewer_classes_than_levels_makes_mixed_classes():
    plan = levels_for_classes(2, {"CP": 10, "CE1": 10, "CE2": 10, "CM1": 10, "CM2": 10})
    assert len(plan) == 2
    assert sorted(lv for levels, _ in plan for lv in levels) == sorted(
        ["CP", "CE1", "CE2", "CM1", "CM2"]
    )
    assert sum(p for _, p in plan) == 50


@pytest.mark.parametrize("n", [0, -1])
def test_no_class(n):
    assert levels_for_classes(n, {"CP": 10}) == []


def test_no_level_data_gives_unlabelled_classes():
    assert levels_for_classes(3, {}) == [([], None)] * 3
