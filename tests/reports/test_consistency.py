"""Dashboards: every figure is the sum of its children's, equals the length of its list,
and reads the same on every level; an IEN's figures count only their circonscription."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from inventory.assets import catalogue, lifecycle
from inventory.assets import catalogue as asset_catalogue
from inventory.assets.models import AssetStatus, StatusChange
from inventory.core import audit, policy
from inventory.core.policy import Role, Scope, ScopeKind
from inventory.grants.breakdown import dossier_aid
from inventory.grants.dossiers import (
    DossierFields,
    SchoolCover,
    change_dossier_status,
    create_dossier,
)
from inventory.grants.expenses import AllocationInput, ExpenseFields, add_expense, update_expense
from inventory.grants.links import LinkInput
from inventory.grants.models import Dossier, DossierStatus, PaymentKind
from inventory.grants.payments import PaymentFields, record_payment
from inventory.grants.schemes import install_presets, schemes
from inventory.helpdesk.models import ProblemType, Ticket, TicketStatus
from inventory.orgs.models import (
    Academie,
    Circonscription,
    Classroom,
    Collectivite,
    Departement,
    Ecole,
    SchoolNature,
)
from inventory.reports import indicators as ind
from inventory.reports import levels
from inventory.reports.dashboard import dashboard
from inventory.reports.indicators import CLASSROOM_FACTS, SCHOOL_FACTS, Facts, Grain
from inventory.reports.levels import Level
from inventory.reports.listing import all_rows, dossier_money, listing_page
from inventory.training.models import SessionFormat, SessionMode, SessionStatus, TrainingSession
from tests.conftest import ADMIN

INSTALLED_AT = datetime(2022, 3, 7, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Reader:
    """A user as the policy sees it, without an account."""

    role: Role
    scope: Scope
    id: int | None = None


def ien(circonscription_id: int) -> Reader:
    return Reader(
        Role.AUDITEUR, Scope(ids={ScopeKind.CIRCONSCRIPTION: frozenset({circonscription_id})})
    )


def dan(academie_id: int) -> Reader:
    return Reader(Role.AUDITEUR, Scope(ids={ScopeKind.ACADEMIE: frozenset({academie_id})}))


def _elementary(db_session, ids):
    return db_session.scalars(
        select(Ecole)
        .where(Ecole.id.in_(ids), Ecole.nature != SchoolNature.MATERNELLE)
        .order_by(Ecole.uai)
    ).all()


def _rooms(db_session, ecole):
    return db_session.scalars(
        select(Classroom).where(Classroom.ecole_id == ecole.id).order_by(Classroom.position)
    ).all()


def _asset(db_session, ecole, room, category, status=AssetStatus.IN_SERVICE, **fields):
    cat = asset_catalogue.category_by_code(db_session, category)
    model = asset_catalogue.get_or_create_model(db_session, "Speechi", f"Modèle {category}", cat)
    where = lifecycle.Where(ecole.collectivite, ecole, room)
    return lifecycle.create_asset(
        db_session,
        ADMIN,
        where=where,
        model=model,
        status=status,
        fields=lifecycle.AssetFields(price_ttc_cents=100_000, **fields),
    )


def _ticket(db_session, ecole, room=None, asset=None, *, status=TicketStatus.NEW, days=None):
    created = INSTALLED_AT + timedelta(days=30)
    t = Ticket(
        asset_id=asset.id if asset else None,
        classroom_id=room.id if room else None,
        ecole_id=ecole.id,
        collectivite_id=ecole.collectivite_id,
        problem_type_id=db_session.scalar(select(ProblemType.id).order_by(ProblemType.id)),
        description="Ne marche pas",
        follow_token=secrets.token_urlsafe(16),
        status=status,
        created_at=created,
        resolved_at=created + timedelta(days=days) if days is not None else None,
    )
    db_session.add(t)
    db_session.commit()
    return t


def _session(db_session, schools, status, on):
    s = TrainingSession(
        title="Prise en main de l'ENI",
        starts_at=on,
        duration_minutes=90,
        mode=SessionMode.ON_SITE,
        format=SessionFormat.WORKSHOP,
        status=status,
        teachers=4,
        schools=list(schools),
    )
    db_session.add(s)
    db_session.commit()
    return s


def _dossier(db_session, coll, schools, *, status, expenses=(), payments=(), maximum=None):
    install_presets(db_session)
    scheme = next(s for s in schemes(db_session) if s.code == "snee-2021")
    dossier = create_dossier(
        db_session,
        ADMIN,
        collectivite=coll,
        scheme=scheme,
        fields=DossierFields(
            title=f"Socle numérique {coll.name}",
            reference=f"SNEE-{coll.id}-{status.value}",
            convention_max_cents=maximum,
        ),
        schools=[SchoolCover(e.id) for e in schools],
    )
    for supplier, shares, links in expenses:
        ttc = sum(shares.values())
        add_expense(
            db_session,
            ADMIN,
            dossier,
            ExpenseFields(
                volet="equipement",
                supplier=supplier,
                invoice_number=f"F-{secrets.token_hex(3)}",
                amount_ht_cents=ttc * 5 // 6,
                amount_ttc_cents=ttc,
                invoice_date=date(2022, 2, 1),
            ),
            allocations=[AllocationInput(e.id, v * 5 // 6, v) for e, v in shares.items()]
            if len(shares) > 1
            else (),
            links=[LinkInput("asset", a.id, 100_000) for a in links],
        )
    path = {
        DossierStatus.APPROVED: [DossierStatus.SUBMITTED, DossierStatus.APPROVED],
        DossierStatus.SIGNED: [
            DossierStatus.SUBMITTED,
            DossierStatus.APPROVED,
            DossierStatus.SIGNED,
        ],
        DossierStatus.DRAFT: [],
    }[status]
    for step in path:
        change_dossier_status(db_session, ADMIN, dossier, step)
    for on, cents in payments:
        record_payment(
            db_session,
            ADMIN,
            dossier,
            PaymentFields(kind=PaymentKind.ADVANCE, received_on=on, received_cents=cents),
        )
    return dossier


@pytest.fixture
def programme(app, registry, db_session) -> dict[str, Any]:
    """Items in three schools of two collectivités and three circonscriptions, two awarded
    dossiers and a draft, tickets, training sessions."""
    colls = registry["collectivites"]
    circos = registry["circonscriptions"]
    creteil_circos = sorted(v for k, v in circos.items() if "Créteil" in k)
    by_circo = {
        c: [e for e, (_i, _c, ci) in registry["schools"].items() if ci == c]
        for c in circos.values()
    }

    def ids(uais):
        return [registry["schools"][u][0] for u in uais]

    with audit.acting_as(audit.Actor(None, "fixture")):
        a, a2 = _elementary(db_session, ids(by_circo[creteil_circos[0]]))[:2]
        (b,) = _elementary(db_session, ids(by_circo[creteil_circos[1]]))[:1]
        (c,) = _elementary(
            db_session, ids(by_circo[circos[next(k for k in circos if "Fresnes" in k)]])
        )[:1]
        ra, rb, rc = _rooms(db_session, a), _rooms(db_session, b), _rooms(db_session, c)
        # School A: one classroom at the socle, one half-equipped, tablets for the school.
        eni_a = _asset(db_session, a, ra[0], "eni", serial="ENI-A1")
        teacher_a = _asset(db_session, a, ra[0], "poste_enseignant", serial="PC-A1")
        wifi_a = _asset(db_session, a, ra[0], "borne_wifi", serial="AP-A1")
        eni_a2 = _asset(db_session, a, ra[1], "eni", serial="ENI-A2")
        # The ENI model has a camera, a microphone and speakers built in: since issue 19
        # the socle asks for them of their own, met by a model that declares them.
        catalogue.set_capabilities(
            db_session, ADMIN, eni_a.model, ["image", "microphone", "speakers"]
        )
        teacher_a2 = _asset(
            db_session, a, ra[1], "poste_enseignant", AssetStatus.DELIVERED, serial="PC-A2"
        )
        tablets = [
            _asset(db_session, a, None, "tablette", serial=f"TAB-{i}" if i else None)
            for i in range(3)
        ]
        # A second school of the same circonscription: a projector, formula-like supplier.
        vp_a2 = _asset(db_session, a2, _rooms(db_session, a2)[0], "vp", supplier="=HYPERLINK(1)")
        # School B: a projector nobody funded; one retired item that no longer counts.
        vp_b = _asset(db_session, b, rb[0], "vp", serial="VP-B1")
        old_b = _asset(db_session, b, rb[0], "vp", serial="VP-B0")
        lifecycle.change_status(db_session, ADMIN, old_b, AssetStatus.RETIRED)
        # School C (Fresnes): a board installed, funded, not yet in service.
        tni_c = _asset(db_session, c, rc[0], "tni", AssetStatus.INSTALLED, serial="TNI-C1")
        # Put every installation in March 2022, a month apart for school C.
        db_session.execute(update(StatusChange).values(at=INSTALLED_AT))
        db_session.commit()
        # Tickets: resolved in 2 and 6 days, open ones, one about a room.
        _ticket(db_session, a, ra[0], eni_a, status=TicketStatus.RESOLVED, days=2)
        _ticket(db_session, a, ra[1], eni_a2, status=TicketStatus.CLOSED, days=6)
        _ticket(db_session, a, ra[1], eni_a2)
        _ticket(db_session, b, rb[1], None, status=TicketStatus.IN_PROGRESS)
        _ticket(db_session, c, rc[0], tni_c)
        # Training: A and C accompanied (A 20 days after its first installation).
        _session(db_session, [a, c], SessionStatus.HELD, INSTALLED_AT + timedelta(days=20))
        _session(db_session, [b], SessionStatus.PLANNED, INSTALLED_AT + timedelta(days=40))
        _session(db_session, [c], SessionStatus.HELD, INSTALLED_AT + timedelta(days=60))
        creteil = db_session.get(Collectivite, colls["Créteil"])
        fresnes = db_session.get(Collectivite, colls["Fresnes"])
        d1 = _dossier(
            db_session,
            creteil,
            [a, b],
            status=DossierStatus.SIGNED,
            maximum=1_500_000,
            expenses=[
                ("Speechi", {a: 900_000, b: 450_000}, [eni_a, teacher_a, teacher_a2, tablets[0]]),
            ],
            payments=[(date(2022, 4, 15), 300_001), (date(2022, 6, 1), 200_000)],
        )
        d2 = _dossier(
            db_session,
            fresnes,
            [c],
            status=DossierStatus.APPROVED,
            maximum=800_000,
            expenses=[("=SUM(A1)", {c: 600_000}, [tni_c])],
        )
        draft = _dossier(db_session, creteil, [a2], status=DossierStatus.DRAFT)
    return {
        "schools": {"a": a.id, "a2": a2.id, "b": b.id, "c": c.id},
        "rooms": {"a1": ra[0].id, "a2": ra[1].id, "b1": rb[0].id, "b2": rb[1].id, "c1": rc[0].id},
        "collectivites": {"creteil": creteil.id, "fresnes": fresnes.id},
        "circonscriptions": {
            "a": a.circonscription_id,
            "b": b.circonscription_id,
            "c": c.circonscription_id,
        },
        "academie": a.departement.academie_id,
        "departement": a.departement_id,
        "dossiers": {"creteil": d1.id, "fresnes": d2.id, "draft": draft.id},
        "assets": {
            "eni_a": eni_a.id,
            "wifi_a": wifi_a.id,
            "vp_a2": vp_a2.id,
            "vp_b": vp_b.id,
            "tni_c": tni_c.id,
        },
    }


def _load(session, level, object_id):
    return None if level is Level.SCOPE else session.get(levels.MODELS[level], object_id)


def board(session, user, level, object_id=None):
    return dashboard(session, user, level, _load(session, level, object_id))


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
            obj = _load(db.session, level, _id(programme, ref))
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
    _asset(db_session, ecole, None, "tablette", serial="TAB-NEW")
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
