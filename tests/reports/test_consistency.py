"""Dashboards: every figure is the sum of its children's, equals the length of its list,
and reads the same on every level; an IEN's figures count only their circonscription."""

from __future__ import annotations

import pytest

from inventory.core import policy
from inventory.grants.breakdown import dossier_aid
from inventory.grants.expenses import ExpenseFields, update_expense
from inventory.grants.links import LinkInput
from inventory.grants.models import Dossier
from inventory.orgs.models import (
    Academie,
    Circonscription,
    Classroom,
    Departement,
    Ecole,
)
from inventory.reports import indicators as ind
from inventory.reports import levels
from inventory.reports.dashboard import dashboard
from inventory.reports.indicators import CLASSROOM_FACTS, SCHOOL_FACTS, Facts, Grain
from inventory.reports.levels import Level
from inventory.reports.listing import all_rows, dossier_money, listing_page
from tests.conftest import ADMIN
from tests.reports.builders import add_asset, board, dan, ien, level_object

ADDITIVE = [f for f in CLASSROOM_FACTS + SCHOOL_FACTS]


def assert_sum(parent: Facts, rows: list[Facts], facts=ADDITIVE, where=""):
    total = Facts.total(rows)
    for name in facts:
        assert total[name] == parent[name], f"{where}: {name} {total[name]} != {parent[name]}"
    assert sorted(total.resolution_seconds) == sorted(parent.resolution_seconds), where
    assert sorted(total.delay_days) == sorted(parent.delay_days), where
    assert total.paid_by_month == parent.paid_by_month, where
    assert total.dossiers == parent.dossiers, where


def busy(row) -> bool:
    f = row.facts
    return bool(f["items"] or f["tickets"] or f.dossiers or f["accompanied"])


def _walk(session, user, level, object_id=None):
    """The levels below this one where something happens: (level, id, dashboard)."""
    b = board(session, user, level, object_id)
    yield level, object_id, b
    for table in b.tables:
        for row in table.rows:
            if row.key is not None and busy(row):
                yield from _walk(session, user, table.level, row.key)


def test_expected_figures(app, programme):
    from inventory.extensions import db

    with app.app_context():
        t = board(db.session, ADMIN, Level.SCOPE).totals
        assert t["meeting"] == 1
        assert t["in_service"] == 3 + 1 + 3 + 1 + 1  # A1, A2's board, tablets, A2, B
        assert t["items"] == 11  # the retired projector does not count
        assert t["pupil_computers"] == 3 and t["displays"] == 4
        assert t["funded"] == 5
        assert t["funded_not_in_service"] == 2  # A2's teacher laptop, C's board
        assert t["in_service_unfunded"] == 6
        assert t["without_serial"] == 2  # a tablet, A2's projector
        assert t["open_tickets"] == 3 and t["resolved_tickets"] == 2
        assert ind.BY_CODE["median_resolution"].value(t) == pytest.approx(4.0)
        assert t["accompanied"] == 2 and t["equipped_not_accompanied"] == 2  # A2 and B
        assert sorted(t.delay_days) == [20]  # C has nothing in service
        assert t["paid_cents"] == 500_001
        assert len(t.dossiers) == 2  # the draft does not count
        # The aid is the grants module's own computation of each dossier.
        for key in ("creteil", "fresnes"):
            d = db.session.get(Dossier, programme["dossiers"][key])
            f = dossier_money(db.session, ADMIN, Level.SCOPE, None, [d.id])[d.id]
            result = dossier_aid(d)
            assert f["aid_cents"] == result.aid_cents
            assert f["spending_cents"] == result.spending_cents
            assert f["eligible_cents"] == result.eligible_cents
            assert f["approved_cents"] == d.convention_max_cents
        first = board(db.session, ADMIN, Level.SCOPE).months[0]
        # Every item put in service in March 2022, the retired projector too.
        assert (first.month, first.installations) == ("2022-03", 10)


@pytest.mark.parametrize("who", ["admin", "dan", "ien"])
def test_every_figure_is_the_sum_of_its_children(app, programme, who):
    from inventory.extensions import db

    user = {
        "admin": ADMIN,
        "dan": dan(programme["academie"]),
        "ien": ien(programme["circonscriptions"]["a"]),
    }[who]
    seen = set()
    with app.app_context():
        walks = [(Level.SCOPE, None), (Level.ACADEMIE, programme["academie"])]
        if who == "ien":
            walks = walks[:1]
        for level, object_id, b in (
            step for start in walks for step in _walk(db.session, user, *start)
        ):
            seen.add(level)
            for table in b.tables:
                # (In a school's table of classrooms, the school-wide row holds the school facts.)
                assert_sum(
                    b.totals, [r.facts for r in table.rows], ADDITIVE, f"{level} {object_id}"
                )
                # And each child's own page says the same as its row.
                for row in table.rows:
                    if row.key is None or not busy(row):
                        continue
                    child = board(db.session, user, table.level, row.key)
                    names = ADDITIVE if table.level is not Level.CLASSROOM else CLASSROOM_FACTS
                    for name in names:
                        assert child.totals[name] == row.facts[name], (table.level, row.key, name)
            # Trends add up to the figures.
            if b.grain is Grain.SCHOOL:
                assert sum(m.paid_cents for m in b.months) == b.totals["paid_cents"]
    assert {Level.ECOLE, Level.CLASSROOM} <= seen
    if who == "admin":
        assert Level.DEPARTEMENT in seen and Level.COLLECTIVITE in seen


LEVELS = [
    (Level.SCOPE, None),
    (Level.ACADEMIE, "academie"),
    (Level.DEPARTEMENT, "departement"),
    (Level.CIRCONSCRIPTION, ("circonscriptions", "a")),
    (Level.COLLECTIVITE, ("collectivites", "creteil")),
    (Level.ECOLE, ("schools", "a")),
    (Level.CLASSROOM, ("rooms", "a2")),
]


def _id(programme, ref):
    if ref is None:
        return None
    if isinstance(ref, tuple):
        return programme[ref[0]][ref[1]]
    return programme[ref]


def test_every_figure_equals_the_length_of_its_list(app, programme):
    from inventory.extensions import db

    with app.app_context():
        for level, ref in LEVELS:
            obj = level_object(db.session, level, _id(programme, ref))
            b = dashboard(db.session, ADMIN, level, obj)
            for listing in ind.LISTINGS:
                if listing.grain is Grain.SCHOOL and b.grain is Grain.CLASSROOM:
                    with pytest.raises(policy.Denied):
                        listing_page(db.session, ADMIN, level, obj, listing, 1, 10)
                    continue
                page = listing_page(db.session, ADMIN, level, obj, listing, 1, 10)
                f = b.totals
                expected = len(f.dossiers) if listing.fact is None else f[listing.fact]
                assert page.total == expected, (level, listing.code)
                rows = all_rows(db.session, ADMIN, level, obj, listing)
                assert len(rows) == expected, (level, listing.code)


def test_an_ien_sees_only_their_circonscription(app, programme):
    from inventory.extensions import db

    circo = programme["circonscriptions"]["a"]
    user = ien(circo)
    with app.app_context():
        mine = board(db.session, user, Level.SCOPE).totals
        admin_view = board(db.session, ADMIN, Level.CIRCONSCRIPTION, circo).totals
        for name in ADDITIVE:
            assert mine[name] == admin_view[name], name
        assert mine["schools"] == admin_view["schools"] > 0
        # The Créteil dossier also covers B, in another circonscription: only A's part counts.
        assert mine["spending_cents"] == 900_000
        # Lists too.
        for listing in ind.LISTINGS:
            for item in all_rows(db.session, user, Level.SCOPE, None, listing):
                ecole_id = getattr(item, "ecole_id", None) or getattr(item, "id", None)
                if listing.kind in (
                    ind.ListKind.ASSET,
                    ind.ListKind.TICKET,
                    ind.ListKind.CLASSROOM,
                ):
                    assert db.session.get(Ecole, item.ecole_id).circonscription_id == circo
                elif listing.kind is ind.ListKind.SCHOOL:
                    assert db.session.get(Ecole, ecole_id).circonscription_id == circo
        # A level out of scope is not found.
        other = programme["circonscriptions"]["c"]
        with pytest.raises(policy.Denied):
            levels.load_level(db.session, user, Level.CIRCONSCRIPTION, other)


def test_a_change_shows_at_once(app, programme, db_session):
    from inventory.extensions import db

    with app.app_context():
        before = board(db.session, ADMIN, Level.SCOPE).totals["in_service"]
        db.session.remove()
    ecole = db_session.get(Ecole, programme["schools"]["b"])
    add_asset(db_session, ecole, None, "tablette", serial="TAB-NEW")
    with app.app_context():
        assert board(db.session, ADMIN, Level.SCOPE).totals["in_service"] == before + 1
        # The aid cache follows an expense changed after the first computation.
        first = board(db.session, ADMIN, Level.COLLECTIVITE, programme["collectivites"]["fresnes"])
        db.session.remove()
    dossier = db_session.get(Dossier, programme["dossiers"]["fresnes"])
    expense = dossier.expenses[0]
    update_expense(
        db_session,
        ADMIN,
        expense,
        version=expense.version,
        fields=ExpenseFields(
            volet="equipement",
            supplier=expense.supplier,
            invoice_number=expense.invoice_number,
            amount_ht_cents=500_000,
            amount_ttc_cents=700_000,
            invoice_date=expense.invoice_date,
        ),
        links=[LinkInput("asset", programme["assets"]["tni_c"], 100_000)],
    )
    with app.app_context():
        again = board(db.session, ADMIN, Level.COLLECTIVITE, programme["collectivites"]["fresnes"])
        assert again.totals["spending_cents"] == 700_000 != first.totals["spending_cents"]


def test_the_levels_of_a_dan(app, programme):
    """A DAN's scope page lists the départements, an IEN's their schools."""
    from inventory.extensions import db

    with app.app_context():
        b = board(db.session, dan(programme["academie"]), Level.SCOPE)
        assert [t.level for t in b.tables] == [Level.DEPARTEMENT]
        b = board(db.session, ien(programme["circonscriptions"]["a"]), Level.SCOPE)
        assert [t.level for t in b.tables] == [Level.ECOLE]
        b = board(db.session, ADMIN, Level.SCOPE)
        assert [t.level for t in b.tables] == [Level.ACADEMIE]
        dep = db.session.get(Departement, programme["departement"])
        crumbs = levels.ancestors(
            db.session, ADMIN, Level.CLASSROOM, db.session.get(Classroom, programme["rooms"]["a1"])
        )
        assert [c.level for c in crumbs] == [
            Level.ACADEMIE,
            Level.DEPARTEMENT,
            Level.COLLECTIVITE,
            Level.ECOLE,
        ]
        assert crumbs[1].name == f"{dep.code} {dep.name}"
        assert db.session.get(Academie, programme["academie"]).name == crumbs[0].name
        assert db.session.get(Circonscription, programme["circonscriptions"]["a"]) is not None
