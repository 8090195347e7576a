"""The dashboards' test world: a programme of two académies with equipment, tickets,
training and dossiers at every level, and the readers and summary views the tests use."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from inventory.assets import catalogue, lifecycle
from inventory.assets import catalogue as asset_catalogue
from inventory.assets.models import AssetStatus, StatusChange
from inventory.core import audit
from inventory.core.policy import Role, Scope, ScopeKind
from inventory.grants.dossiers import (
    DossierFields,
    SchoolCover,
    change_dossier_status,
    create_dossier,
)
from inventory.grants.expenses import AllocationInput, ExpenseFields, add_expense
from inventory.grants.links import LinkInput
from inventory.grants.models import DossierStatus, PaymentKind
from inventory.grants.payments import PaymentFields, record_payment
from inventory.grants.schemes import install_presets, schemes
from inventory.helpdesk.models import ProblemType, Ticket, TicketStatus
from inventory.orgs.models import (
    Classroom,
    Collectivite,
    Ecole,
    SchoolNature,
)
from inventory.reports import levels, refresh, summary
from inventory.reports.dashboard import dashboard
from inventory.reports.levels import Level
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


def add_asset(db_session, ecole, room, category, status=AssetStatus.IN_SERVICE, **fields):
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
        eni_a = add_asset(db_session, a, ra[0], "eni", serial="ENI-A1")
        teacher_a = add_asset(db_session, a, ra[0], "poste_enseignant", serial="PC-A1")
        wifi_a = add_asset(db_session, a, ra[0], "borne_wifi", serial="AP-A1")
        eni_a2 = add_asset(db_session, a, ra[1], "eni", serial="ENI-A2")
        # The ENI model has a camera, a microphone and speakers built in: since issue 19
        # the socle asks for them of their own, met by a model that declares them.
        catalogue.set_capabilities(
            db_session, ADMIN, eni_a.model, ["image", "microphone", "speakers"]
        )
        teacher_a2 = add_asset(
            db_session, a, ra[1], "poste_enseignant", AssetStatus.DELIVERED, serial="PC-A2"
        )
        tablets = [
            add_asset(db_session, a, None, "tablette", serial=f"TAB-{i}" if i else None)
            for i in range(3)
        ]
        # A second school of the same circonscription: a projector, formula-like supplier.
        vp_a2 = add_asset(db_session, a2, _rooms(db_session, a2)[0], "vp", supplier="=HYPERLINK(1)")
        # School B: a projector nobody funded; one retired item that no longer counts.
        vp_b = add_asset(db_session, b, rb[0], "vp", serial="VP-B1")
        old_b = add_asset(db_session, b, rb[0], "vp", serial="VP-B0")
        lifecycle.change_status(db_session, ADMIN, old_b, AssetStatus.RETIRED)
        # School C (Fresnes): a board installed, funded, not yet in service.
        tni_c = add_asset(db_session, c, rc[0], "tni", AssetStatus.INSTALLED, serial="TNI-C1")
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


def level_object(session, level, object_id):
    return None if level is Level.SCOPE else session.get(levels.MODELS[level], object_id)


def board(session, user, level, object_id=None):
    return dashboard(session, user, level, level_object(session, level, object_id))


def _sorted(data: dict) -> dict:
    """The data with its resolution times in order (a sum's list has no order of its own, nor
    has a school's: its tickets come in the order the database reads them)."""
    return {**data, "resolution": sorted(data["resolution"])}


def stored(session) -> tuple[dict, dict]:
    schools = {
        r.ecole_id: (r.in_service, r.first_in_service, _sorted(r.data))
        for r in session.scalars(select(summary.SchoolSummary))
    }
    depts = {
        r.departement_id: _sorted(r.data)
        for r in session.scalars(select(summary.DepartementSummary))
    }
    return schools, depts


def rebuilt(session) -> tuple[dict, dict]:
    """The rows a rebuild from the sources would store, without storing them."""
    schools = {
        r["ecole_id"]: (r["in_service"], r["first_in_service"], _sorted(r["data"]))
        for r in refresh._school_rows(session, None)
    }
    # The départements' sums are taken from the stored school rows: check those first.
    depts = refresh._departement_rows(session, None)
    return schools, {d: _sorted(data) for d, data in depts.items() if data["counts"]}


# -- evidence packs ------------------------------------------------------------------------
def ask_for_pack(client, ask_url: str) -> tuple[int, str]:
    """Ask for an evidence pack as the dashboard's button does and follow to the job's
    page (jobs run at once in tests): the job's id and the page."""
    asked = client.post(ask_url)
    assert asked.status_code == 302, asked.data[:300]
    found = re.fullmatch(r"/taches/(\d+)", asked.location)
    assert found, asked.location
    page = client.get(asked.location)
    assert page.status_code == 200
    return int(found.group(1)), page.get_data(as_text=True)


def download_pack(client, ask_url: str) -> Any:
    """Ask for a pack, then download it from the link of its job's page: the response,
    read whole (and its file closed)."""
    job_id, page = ask_for_pack(client, ask_url)
    assert 'http-equiv="refresh"' not in page  # done: the page stops refreshing
    link = re.search(r'href="(/taches/(\d+)/fichier)"', page)
    assert link and int(link.group(2)) == job_id, page
    response = client.get(link.group(1))
    response.get_data()
    response.close()
    return response
