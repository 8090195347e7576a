"""Who a SIREN is, from the whole file (pure rule)."""

from __future__ import annotations

from inventory.orgs.owners import Registered, plan_owners


def plan(schools, *, registered=None, holders=None, members=None, known=()):
    return plan_owners(
        schools,
        registered=registered or {},
        commune_holders=holders or {},
        members=members or {},
        known=set(known) | {i for c in schools.values() for i in c},
    )


def test_a_classic_commune_siren_is_its_commune_wherever_its_schools_are():
    # Rennes (213502388) owning a school in Saint-Jacques-de-la-Lande too.
    out = plan({"213502388": {"35238": 3, "35281": 1}})
    assert out["213502388"].commune == "35238"


def test_one_commune_only_is_that_commune_several_an_intercommunal_body():
    out = plan({"200041721": {"35257": 2}, "200038594": {"35010": 1, "35011": 1}})
    assert out["200041721"].commune == "35257"
    group = out["200038594"]
    assert group.commune is None and group.communes == ("35010", "35011")
    assert group.departement == "035"


def test_registered_members_count_with_the_file_s_communes():
    # A body registered over two communes whose file shows one school: still a body.
    out = plan(
        {"200038594": {"35010": 1}},
        registered={"200038594": Registered(None, True)},
        members={"200038594": {"35010", "35011"}},
    )
    assert out["200038594"].commune is None


def test_a_body_named_by_a_person_stays_what_it_is():
    out = plan({"200041721": {"35257": 2}}, registered={"200041721": Registered(None, False)})
    assert out["200041721"].commune is None


def test_a_commune_has_one_collectivite():
    # Two SIRENs for the schools of one commune: the classic commune SIREN is it.
    out = plan({"213500010": {"35001": 1}, "200041721": {"35001": 3}})
    assert out["213500010"].commune == "35001"
    assert out["200041721"].commune is None and out["200041721"].taken_by == "35001"
    # Else the one registered for the commune keeps it…
    out = plan(
        {"200041721": {"35001": 3}, "200038594": {"35001": 1}}, holders={"35001": "200038594"}
    )
    assert out["200038594"].commune == "35001"
    assert out["200041721"].taken_by == "35001"
    # …else the one with more schools there, whatever the order.
    a = plan({"200038594": {"35001": 1}, "200041721": {"35001": 3}})
    b = plan({"200041721": {"35001": 3}, "200038594": {"35001": 1}})
    assert a == b and a["200041721"].commune == "35001"
    # A commune whose collectivité has no SIREN yet: an unregistered SIREN may be it.
    out = plan({"200041721": {"35001": 1}}, holders={"35001": None})
    assert out["200041721"].commune == "35001"
    out = plan(
        {"200041721": {"35001": 1}},
        holders={"35001": None},
        registered={"200041721": Registered(None, True)},
    )
    assert out["200041721"].commune is None
