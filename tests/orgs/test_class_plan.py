"""How a school's classes are planned from its pupils (pure rules): hand-computed cases
from the real effectifs file, then properties over any school (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from inventory.orgs.effectifs import ELEMENTARY, PRESCHOOL, ULIS, PlannedRoom, plan_classes
from inventory.orgs.models import LEVELS
from inventory.orgs.services import levels_for_classes

TARGET = {"CP", "CE1", "CE2", "CM1", "CM2", "ULIS"}


def labels(plan):
    return [p.label for p in plan]


def test_a_primaire_school_is_split_in_proportion_to_its_pupils():
    # Acigné, Ste Jeanne d'Arc (2022): 8 classes, 73 pre-school, 142 elementary pupils:
    # 8 × 142 / 215 = 5.28 → 5 elementary classes, 3 pre-school ones.
    plan = plan_classes(
        8,
        preschool=73,
        elementary=dict(zip(ELEMENTARY, (29, 31, 27, 27, 28), strict=True)),
        ulis=0,
    )
    assert labels(plan) == ["PS,MS,GS"] * 3 + ["CP", "CE1", "CE2", "CM1", "CM2"]
    assert [p.pupils for p in plan] == [25, 24, 24, 29, 31, 27, 27, 28]


def test_a_half_goes_to_elementary():
    # 2 classes × 50 / 100 = 1 exactly; 3 × 50 / 100 = 1.5 → 2 elementary.
    per = {"CP": 10, "CE1": 10, "CE2": 10, "CM1": 10, "CM2": 10}
    assert labels(plan_classes(3, preschool=50, elementary=per, ulis=0)) == [
        "PS,MS,GS",
        "CP,CE1,CE2",
        "CM1,CM2",
    ]


def test_at_least_one_class_of_each_when_classes_allow():
    # 40 elementary pupils among 400: the proportion gives 0 elementary classes of 4.
    plan = plan_classes(4, preschool=360, elementary={"CP": 40}, ulis=0)
    assert labels(plan) == ["PS,MS,GS"] * 3 + ["CP"]
    # 5 pre-school pupils among 400: 3.95 elementary classes of 4, but one stays theirs.
    plan = plan_classes(4, preschool=5, elementary={"CP": 200, "CE1": 195}, ulis=0)
    assert labels(plan) == ["PS,MS,GS", "CP", "CP", "CE1"]


def test_a_single_class_holds_every_level():
    plan = plan_classes(1, preschool=8, elementary={"CP": 3, "CM2": 4}, ulis=2)
    assert plan == [PlannedRoom(("PS", "MS", "GS", "CP", "CM2", "ULIS"), 17)]


def test_the_ulis_unit_is_one_of_the_counted_classes():
    # Dinard, Claude Debussy (2022): 9 classes, 185 elementary pupils, 11 in ULIS.
    plan = plan_classes(
        9,
        preschool=0,
        elementary=dict(zip(ELEMENTARY, (35, 35, 38, 42, 35), strict=True)),
        ulis=11,
    )
    # 8 elementary classes: one per level, then CM1 (42), CE2 (38), and CP (35, first of
    # the levels of 35).
    assert labels(plan) == ["CP", "CP", "CE1", "CE2", "CE2", "CM1", "CM1", "CM2", "ULIS"]
    assert plan[-1].pupils == 11


def test_a_nursery_school_has_no_target_classroom():
    plan = plan_classes(7, preschool=176, elementary={}, ulis=0)
    assert labels(plan) == ["PS,MS,GS"] * 7 and sum(p.pupils for p in plan) == 176


def test_without_figures_the_rooms_have_no_levels():
    assert plan_classes(3, preschool=0, elementary={}, ulis=0) == [PlannedRoom((), None)] * 3
    assert plan_classes(0, preschool=10, elementary={"CP": 5}, ulis=0) == []


def test_the_elementary_aggregate_alone_gives_rooms_of_every_elementary_level():
    plan = plan_classes(2, preschool=0, elementary={}, ulis=0, elementary_total=45)
    assert plan == [PlannedRoom(ELEMENTARY, 23), PlannedRoom(ELEMENTARY, 22)]


def test_per_level_pre_school_figures_are_used_when_given():
    plan = plan_classes(
        3, preschool=0, elementary={}, ulis=0, preschool_levels={"PS": 20, "MS": 25, "GS": 26}
    )
    assert labels(plan) == ["PS", "MS", "GS"]


def test_a_level_s_extra_classes_go_where_classes_are_most_crowded():
    # 7 classes: one per level, then CE2 (34) and CM2 (33), the most crowded.
    plan = levels_for_classes(7, {"CP": 25, "CE1": 29, "CE2": 34, "CM1": 20, "CM2": 33})
    assert [lv for lv, _ in plan] == [["CP"], ["CE1"], ["CE2"], ["CE2"], ["CM1"], ["CM2"], ["CM2"]]


def test_a_small_level_keeps_its_class():
    """With many pupils in one level, the others still have a class each (a largest-
    remainder split could take a small level's only class, and lose its pupils)."""
    plan = levels_for_classes(5, {"CP": 2, "CE1": 2, "CE2": 2, "CM1": 2, "CM2": 100})
    assert [lv for lv, _ in plan] == [["CP"], ["CE1"], ["CE2"], ["CM1"], ["CM2"]]
    assert sum(p for _, p in plan) == 108


# -- properties -------------------------------------------------------------------------------
pupils = st.integers(min_value=0, max_value=120)


@given(
    classes=st.integers(min_value=0, max_value=30),
    preschool=st.integers(min_value=0, max_value=300),
    per_level=st.tuples(pupils, pupils, pupils, pupils, pupils),
    ulis=st.integers(min_value=0, max_value=15),
)
def test_plan_properties(classes, preschool, per_level, ulis):
    elementary = dict(zip(ELEMENTARY, per_level, strict=True))
    elem = sum(per_level)
    plan = plan_classes(classes, preschool=preschool, elementary=elementary, ulis=ulis)
    # One planned room per class, with known levels only.
    assert len(plan) == max(classes, 0)
    assert all(set(p.levels) <= set(LEVELS) for p in plan)
    if not classes:
        return
    total = preschool + elem + ulis
    if total == 0:
        assert all(p.levels == () and p.pupils is None for p in plan)
        return
    # Every pupil is in one room.
    assert sum(p.pupils for p in plan) == total
    # Every level with pupils is in some room, and no level without.
    present = {lv for p in plan for lv in p.levels}
    wanted = {lv for lv, n in elementary.items() if n} | ({ULIS} if ulis else set())
    assert present - set(PRESCHOOL) == wanted
    assert (preschool > 0) == bool(present & set(PRESCHOOL))
    with_pre = [p for p in plan if set(p.levels) & set(PRESCHOOL)]
    with_elem = [p for p in plan if set(p.levels) & set(ELEMENTARY)]
    unit = 1 if ulis and classes >= 2 else 0
    rooms = classes - unit
    # ULIS: its own room from two classes on.
    if unit:
        assert plan[-1].levels == (ULIS,) and plan[-1].pupils == ulis
    if preschool and elem and rooms >= 2:
        # Pre-school and elementary never share a room, each has one at least, and the
        # elementary rooms are the nearest whole number to their share (a half up),
        # unless one at least of each forbids it.
        assert not any(set(p.levels) & set(ELEMENTARY) for p in with_pre)
        share = rooms * elem / (preschool + elem)
        nearest = int(share + 0.5)
        assert len(with_elem) == min(max(nearest, 1), rooms - 1)
        assert len(with_pre) == rooms - len(with_elem)
    elif preschool and not elem and rooms:
        assert len(with_pre) == rooms
    elif elem and not preschool and rooms:
        assert len(with_elem) == rooms


@given(
    classes=st.integers(min_value=1, max_value=30),
    per_level=st.tuples(pupils, pupils, pupils, pupils, pupils),
)
def test_levels_for_classes_properties(classes, per_level):
    counts = dict(zip(ELEMENTARY, per_level, strict=True))
    plan = levels_for_classes(classes, counts)
    assert len(plan) == classes
    with_pupils = [lv for lv, n in counts.items() if n]
    if not with_pupils:
        return
    assert sum(p for _, p in plan) == sum(per_level)
    assert {lv for levels, _ in plan for lv in levels} == set(with_pupils)
    # Levels stay in order, and a class's pupils are whole.
    flat = [lv for levels, _ in plan for lv in levels]
    assert flat == sorted(flat, key=ELEMENTARY.index)
    if classes >= len(with_pupils):
        # One level per class, each level a class at least; and no extra class would do
        # better elsewhere: a level's classes are never more crowded than another level's
        # would be with one class less (pupils a / classes a ≤ pupils b / (classes b − 1)).
        per = {lv: sum(1 for levels, _ in plan if levels == [lv]) for lv in with_pupils}
        assert sum(per.values()) == classes and min(per.values()) >= 1
        for a in with_pupils:
            for b in with_pupils:
                if a != b and per[b] >= 2:
                    assert counts[a] * (per[b] - 1) <= counts[b] * per[a]


def test_targets_are_the_elementary_and_ulis_rooms():
    plan = plan_classes(
        12,
        preschool=78,
        elementary=dict(zip(ELEMENTARY, (25, 29, 34, 20, 33), strict=True)),
        ulis=13,
    )
    assert sum(1 for p in plan if TARGET & set(p.levels)) == 8
