"""The socle référentiel as data per scheme: its rules (capabilities, ratios per target
classrooms, the cart or MDM, the director's kit, a way to share work), the administrator's
editor and the figures that follow it, digital services and the models' capabilities."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from inventory.assets import catalogue, digital, referentiels, socle
from inventory.assets import services as equip
from inventory.assets.models import (
    AssetStatus,
    ClassroomSocle,
    DigitalService,
    EquipmentModel,
    Referentiel,
    RequirementKind,
    RequirementLevel,
    ServiceKind,
    SocleRequirement,
    WorkKind,
    WorkStatus,
)
from inventory.core import policy
from inventory.core.audit import AuditRecord
from inventory.core.policy import Role
from inventory.grants import services as grants
from inventory.grants.models import FundingScheme
from inventory.orgs.models import Classroom, Ecole, SchoolNature
from tests.factories.registry import ADMIN, login

TODAY = date(2025, 3, 10)
CAPTURE = ("image", "microphone", "speakers")


# -- helpers -----------------------------------------------------------------------------
@pytest.fixture
def school(registry, db_session) -> Ecole:
    """An elementary school of Créteil with target classrooms."""
    coll = registry["collectivites"]["Créteil"]
    for ecole in db_session.scalars(
        select(Ecole)
        .where(Ecole.collectivite_id == coll, Ecole.nature != SchoolNature.MATERNELLE)
        .order_by(Ecole.id)
    ):
        if len(ecole.classrooms) >= 2:
            return ecole
    raise AssertionError("no elementary school with classrooms")


def with_targets(db_session, ecole: Ecole, n: int) -> list[Classroom]:
    """Give the school exactly ``n`` target classrooms (the others nursery ones)."""
    rooms = sorted(ecole.classrooms, key=lambda r: r.id)
    for i in range(len(rooms), n):
        room = Classroom(ecole_id=ecole.id, name=f"Salle ajoutée {i}", position=i, levels="CE1")
        db_session.add(room)
        rooms.append(room)
    for i, room in enumerate(rooms):
        room.levels = "CE1" if i < n else "PS"
    db_session.commit()
    assert socle.target_counts(db_session, [ecole.id]).get(ecole.id, 0) == n
    return rooms[:n]


def put(db_session, ecole, room, category, status=AssetStatus.IN_SERVICE, model=None, n=1):
    cat = equip.category_by_code(db_session, category)
    model = equip.get_or_create_model(db_session, "Maker", model or f"Modèle {category}", cat)
    where = equip.Where(ecole.collectivite, ecole, room)
    return [
        equip.create_asset(db_session, ADMIN, where=where, model=model, status=status)
        for _ in range(n)
    ]


def provide(db_session, ecole, kind, name=None, starts=None, ends=None) -> DigitalService:
    return digital.save_service(
        db_session,
        ADMIN,
        None,
        fields=digital.ServiceFields(
            kind=ServiceKind(kind), name=name or f"Service {kind}", starts_on=starts, ends_on=ends
        ),
        ecole_ids=[ecole.id],
        collectivite=ecole.collectivite,
    )


def school_check(db_session, ecole, code, today=TODAY) -> socle.RequirementCheck:
    db_session.expire_all()
    status = socle.school_status(db_session, [ecole.id], today=today)[ecole.id]
    return next(c for c in status.checks if c.requirement.code == code)


def room_check(db_session, room, code) -> socle.RequirementCheck:
    db_session.expire_all()
    status = socle.classroom_status(db_session, [room.id])[room.id]
    return next(c for c in status.checks if c.requirement.code == code)


def summary_meets(db_session, room) -> bool:
    db_session.expire_all()
    return db_session.get(ClassroomSocle, room.id).meets


def requirement(db_session, code) -> SocleRequirement:
    return db_session.scalar(
        select(SocleRequirement)
        .join(Referentiel)
        .where(Referentiel.is_current.is_(True), SocleRequirement.code == code)
    )


def equip_room(db_session, ecole, room, capture="captation"):
    """Everything the SNEE référentiel asks of a classroom, in service."""
    for category in ("eni", "poste_enseignant", "borne_wifi", capture):
        put(db_session, ecole, room, category)


# -- the shipped référentiel ---------------------------------------------------------------
def test_the_snee_referentiel_ships_current_with_every_requirement(db_session):
    ref = socle.current_referentiel(db_session)
    assert ref.code == "snee-2021"
    by_level = {
        level: [r.code for r in socle.requirements(db_session, level)] for level in RequirementLevel
    }
    assert by_level == {
        RequirementLevel.CLASSROOM: [
            "affichage_collectif",
            "poste_enseignant",
            "connexion",
            "captation",
        ],
        RequirementLevel.SCHOOL: ["equipement_mobile", "chariot_mdm", "wifi_ecole", "partage"],
        RequirementLevel.DIRECTION: [
            "direction_poste",
            "direction_connexion",
            "direction_copieur",
        ],
    }
    capture = requirement(db_session, "captation")
    assert capture.kind is RequirementKind.CAPABILITIES and capture.categories == []
    mobile = requirement(db_session, "equipement_mobile")
    assert (mobile.kind, mobile.categories, mobile.ratio_items, mobile.ratio_classes) == (
        RequirementKind.RATIO,
        ["tablette", "pc_eleve"],
        10,
        4,
    )
    # The app's preset and the migration's copy say the same.
    preset = {r["code"]: r for r in referentiels.SNEE_2021["requirements"]}
    for req in ref.requirements:
        shipped = referentiels._requirement_of(preset[req.code], req.position)
        for key in ("level", "kind", "category_codes", "work_kinds", "service_kinds"):
            assert getattr(req, key) == getattr(shipped, key), (req.code, key)
        assert (req.capabilities, req.minimum, req.ratio_items) == (
            shipped.capabilities,
            shipped.minimum,
            shipped.ratio_items,
        )


# -- capabilities --------------------------------------------------------------------------
def test_capture_is_met_by_a_webcam_and_speakers_not_by_a_display(db_session, school):
    room = school.classrooms[0]
    put(db_session, school, room, "eni")
    check = room_check(db_session, room, "captation")
    assert not check.met and check.missing_capabilities == list(check.providers)
    put(db_session, school, room, "visualiseur", model="V4K")
    check = room_check(db_session, room, "captation")
    assert [c.value for c in check.missing_capabilities] == ["microphone", "speakers"]
    assert check.providers[next(iter(check.providers))] == ["Maker V4K"]
    put(db_session, school, room, "webcam", status=AssetStatus.DELIVERED)
    assert not room_check(db_session, room, "captation").met, "a delivered webcam brings nothing"
    put(db_session, school, room, "webcam", model="C920")
    assert [c.value for c in room_check(db_session, room, "captation").missing_capabilities] == [
        "speakers"
    ]
    put(db_session, school, room, "enceintes")
    check = room_check(db_session, room, "captation")
    assert check.met and not check.missing_capabilities
    assert "Maker C920" in check.providers[next(iter(check.providers))]


def test_capture_is_met_by_a_display_model_declared_with_them_built_in(db_session, school):
    room = school.classrooms[0]
    (screen,) = put(db_session, school, room, "eni", model="Flip Pro")
    assert not summary_meets(db_session, room)
    for category in ("poste_enseignant", "borne_wifi"):
        put(db_session, school, room, category)
    assert not room_check(db_session, room, "captation").met
    catalogue.set_capabilities(db_session, ADMIN, screen.model, CAPTURE)
    check = room_check(db_session, room, "captation")
    assert check.met and all(found == ["Maker Flip Pro"] for found in check.providers.values())
    # The summary of the rooms holding one follows in the same transaction, logged.
    assert summary_meets(db_session, room)
    logged = db_session.scalar(
        select(AuditRecord).where(
            AuditRecord.object_type == "equipment_models", AuditRecord.action == "update"
        )
    )
    assert logged.changes["capabilities"] == [None, "image,microphone,speakers"]
    # Back to its category's (an ENI's: none), and the room misses capture again.
    catalogue.set_capabilities(db_session, ADMIN, screen.model, None)
    assert not summary_meets(db_session, room)


def test_a_model_declaration_overrides_its_category(db_session, school):
    room = school.classrooms[0]
    (kit,) = put(db_session, school, room, "captation", model="Kit sans micro")
    assert room_check(db_session, room, "captation").met  # the category's: all three
    catalogue.set_capabilities(db_session, ADMIN, kit.model, ["speakers", "image"])
    assert db_session.get(EquipmentModel, kit.model_id).capabilities == "image,speakers"
    check = room_check(db_session, room, "captation")
    assert [c.value for c in check.missing_capabilities] == ["microphone"]
    with pytest.raises(policy.Denied):
        catalogue.set_capabilities(db_session, _Technician(), kit.model, None)


class _Technician:
    id = None
    role = Role.TECHNICIEN
    scope = ADMIN.scope


# -- the ratio of mobile devices -------------------------------------------------------------
@pytest.mark.parametrize("targets, needed", [(3, 8), (4, 10), (5, 13), (8, 20)])
def test_the_ratio_asks_ten_devices_per_four_target_classrooms(targets, needed):
    mobile = referentiels._requirement_of(
        next(r for r in referentiels.SNEE_2021["requirements"] if r["code"] == "equipement_mobile"),
        0,
    )
    assert mobile.needed(targets) == needed


@given(
    targets=st.integers(min_value=0, max_value=500),
    items=st.integers(min_value=1, max_value=50),
    classes=st.integers(min_value=1, max_value=20),
    minimum=st.integers(min_value=0, max_value=30),
)
def test_the_ratio_is_its_lower_bound_rounded_up_and_at_least_the_minimum(
    targets, items, classes, minimum
):
    req = SocleRequirement(
        kind=RequirementKind.RATIO, minimum=minimum, ratio_items=items, ratio_classes=classes
    )
    assert req.needed(targets) == max(minimum, math.ceil(items * targets / classes))
    assert req.needed(targets + 1) >= req.needed(targets)


@pytest.mark.parametrize("targets, needed", [(3, 8), (4, 10), (5, 13), (8, 20)])
def test_a_school_needs_its_mobile_devices_per_target_classrooms(
    db_session, school, targets, needed
):
    with_targets(db_session, school, targets)
    put(db_session, school, None, "tablette", n=needed - 3)
    put(db_session, school, school.classrooms[0], "pc_eleve", n=2)  # kept in a classroom
    put(db_session, school, None, "tablette", status=AssetStatus.UNDER_REPAIR)
    check = school_check(db_session, school, "equipement_mobile")
    assert (check.count, check.needed, check.targets, check.met) == (
        needed - 1,
        needed,
        targets,
        False,
    )
    put(db_session, school, None, "pc_eleve")
    check = school_check(db_session, school, "equipement_mobile")
    assert (check.count, check.needed, check.met) == (needed, needed, True)


def test_the_mobile_devices_need_a_charging_cart_or_an_mdm(db_session, school):
    assert not school_check(db_session, school, "chariot_mdm").met
    ended = provide(db_session, school, "mdm", "MDM Jamf", ends=TODAY - timedelta(days=1))
    assert not school_check(db_session, school, "chariot_mdm").met, "an ended MDM"
    ended.ends_on = None
    db_session.commit()
    check = school_check(db_session, school, "chariot_mdm")
    assert check.met and check.services == [("mdm", "MDM Jamf")]
    ended.ends_on = TODAY - timedelta(days=1)
    db_session.commit()
    put(db_session, school, None, "classe_mobile")
    check = school_check(db_session, school, "chariot_mdm")
    assert check.met and check.count == 1 and check.services == []


def test_the_directors_kit(db_session, school):
    def missing():
        status = socle.school_status(db_session, [school.id], today=TODAY)[school.id]
        return [
            c.requirement.code
            for c in status.checks
            if c.requirement.level is RequirementLevel.DIRECTION and not c.met
        ]

    assert missing() == ["direction_poste", "direction_connexion", "direction_copieur"]
    put(db_session, school, None, "poste_direction")
    put(db_session, school, None, "copieur", status=AssetStatus.INSTALLED)
    assert missing() == ["direction_connexion", "direction_copieur"]
    work = equip.save_work(
        db_session,
        ADMIN,
        None,
        ecole=school,
        fields=equip.WorkFields(kind=WorkKind.INTERNET, title="Fibre", status=WorkStatus.ORDERED),
        classroom_ids=[],
    )
    assert missing() == ["direction_connexion", "direction_copieur"], "works not finished"
    work.status = WorkStatus.DONE
    db_session.commit()
    check = school_check(db_session, school, "direction_connexion")
    assert check.met and check.works == ["internet"]
    put(db_session, school, None, "copieur")
    assert missing() == []


def test_a_way_to_share_work_counts_the_services_running_that_day(db_session, school, registry):
    assert not school_check(db_session, school, "partage").met
    provide(db_session, school, "resource", "Lumni")  # a resource shares nothing
    ent = provide(db_session, school, "ent", "ENT Val-de-Marne", starts=TODAY + timedelta(days=1))
    assert not school_check(db_session, school, "partage").met, "starts tomorrow"
    assert school_check(db_session, school, "partage", TODAY + timedelta(days=1)).met
    ent.starts_on, ent.ends_on = TODAY - timedelta(days=30), TODAY
    db_session.commit()
    check = school_check(db_session, school, "partage")
    assert check.met and check.services == [("ent", "ENT Val-de-Marne")], "its last day counts"
    assert not school_check(db_session, school, "partage", TODAY + timedelta(days=1)).met
    provide(db_session, school, "cloud", "Apps Éducation")
    later = school_check(db_session, school, "partage", TODAY + timedelta(days=1))
    assert later.met and later.services == [("cloud", "Apps Éducation")]
    # Another school of the collectivité is not covered by this school's services.
    other = next(
        e
        for e in db_session.scalars(select(Ecole).filter_by(collectivite_id=school.collectivite_id))
        if e.id != school.id
    )
    assert not school_check(db_session, other, "partage").met


def test_school_requirements_are_reported_per_school_not_in_the_classroom_flag(db_session, school):
    """The decision documented in socle.py: a classroom meets the socle with its own
    requirements; the school's (mobile devices, Wi-Fi, sharing, director) are apart."""
    room = school.classrooms[0]
    equip_room(db_session, school, room)
    assert summary_meets(db_session, room)
    status = socle.school_status(db_session, [school.id], today=TODAY)[school.id]
    assert not status.complete
    assert socle.coverage_by_school(db_session, [school.id])[school.id].meeting >= 1


def test_the_summary_says_what_the_per_room_reading_says(db_session, school):
    rooms = with_targets(db_session, school, 4)
    equip_room(db_session, school, rooms[0])
    equip_room(db_session, school, rooms[1], capture="visualiseur")  # image only
    for category in ("eni", "poste_enseignant", "borne_wifi", "webcam", "enceintes"):
        put(db_session, school, rooms[2], category)
    put(db_session, school, rooms[3], "vp")
    ids = [r.id for r in school.classrooms]
    db_session.expire_all()
    summary = dict(
        db_session.execute(
            select(ClassroomSocle.classroom_id, ClassroomSocle.meets).where(
                ClassroomSocle.classroom_id.in_(ids)
            )
        ).all()
    )
    direct = {i: s.complete for i, s in socle.classroom_status(db_session, ids).items()}
    assert summary == direct
    assert [summary[r.id] for r in rooms] == [True, False, True, False]


def test_a_collectivites_overview_sums_what_each_room_says(app, make_user, db_session, school):
    """The collectivité page's table, requirement by requirement: the classroom tallies,
    summed in SQL, are what the per-room reading gives."""
    rooms = with_targets(db_session, school, 4)
    equip_room(db_session, school, rooms[0])
    equip_room(db_session, school, rooms[1], capture="visualiseur")
    put(db_session, school, rooms[2], "poste_enseignant", n=2)
    put(db_session, school, None, "poste_direction")
    ids = list(
        db_session.scalars(select(Ecole.id).filter_by(collectivite_id=school.collectivite_id))
    )
    view = socle.overview(db_session, ids)
    targets = list(
        db_session.scalars(
            select(ClassroomSocle.classroom_id).where(
                ClassroomSocle.ecole_id.in_(ids), ClassroomSocle.is_target.is_(True)
            )
        )
    )
    per_room = socle.classroom_status(db_session, targets)
    assert [(t.requirement.code, t.met, t.places) for t in view.classroom] == [
        (code, sum(s.checks[i].met for s in per_room.values()), len(targets))
        for i, code in enumerate(
            ["affichage_collectif", "poste_enseignant", "connexion", "captation"]
        )
    ]
    assert [t.met for t in view.classroom] == [2, 3, 2, 1]
    poste = next(t for t in view.school if t.requirement.code == "direction_poste")
    assert poste.met == 1 and poste.places == sum(1 for s in view.schools.values() if s.targets)
    admin = signed_in(app, make_user, Role.ADMIN)
    html = admin.get(f"/collectivites/{school.collectivite_id}").get_data(as_text=True)
    assert "Requirements of each target classroom" in html
    assert re.search(r"Teacher laptop</th><td class=\"num\">3 of \d+</td>", html)


# -- the editor, over HTTP -----------------------------------------------------------------
def signed_in(app, make_user, role, scopes=()):
    client = app.test_client()
    assert login(client, make_user(role, scopes)).status_code == 302
    assert client.post("/language", data={"lang": "en", "next": "/"}).status_code == 302
    return client


def form_of(req: SocleRequirement, **changes) -> dict[str, object]:
    data = {
        "code": req.code,
        "label_fr": req.label_fr,
        "label_en": req.label_en,
        "level": req.level.value,
        "kind": req.kind.value,
        "categories": req.categories,
        "work_kinds": req.kinds,
        "service_kinds": req.services,
        "capabilities": [c.value for c in req.capability_list],
        "minimum": str(req.minimum),
        "ratio_items": "" if req.ratio_items is None else str(req.ratio_items),
        "ratio_classes": "" if req.ratio_classes is None else str(req.ratio_classes),
        "position": str(req.position),
        "active": "y" if req.active else "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def coverage_text(html: str) -> tuple[int, int]:
    found = re.search(r"(\d+) of (\d+) target classrooms meets? the socle", html)
    assert found, "no coverage figure"
    return int(found.group(1)), int(found.group(2))


def test_an_administrator_edits_a_minimum_and_the_figures_follow(
    app, make_user, db_session, school
):
    room = school.classrooms[0]
    equip_room(db_session, school, room)
    admin = signed_in(app, make_user, Role.ADMIN)
    dashboard = f"/tableau-de-bord/ecole/{school.id}"
    before = coverage_text(admin.get(f"/ecoles/{school.id}").get_data(as_text=True))
    assert before[0] == 1
    assert coverage_text(admin.get(dashboard).get_data(as_text=True)) == before
    # The current référentiel's page, from the school's socle panel.
    html = admin.get(f"/ecoles/{school.id}").get_data(as_text=True)
    ref = socle.current_referentiel(db_session)
    assert f'href="/socle/referentiels/{ref.id}"' in html
    teacher = requirement(db_session, "poste_enseignant")
    page = admin.get(f"/socle/referentiels/{ref.id}").get_data(as_text=True)
    assert f'href="/socle/exigences/{teacher.id}"' in page
    assert admin.get(f"/socle/exigences/{teacher.id}").status_code == 200
    response = admin.post(f"/socle/exigences/{teacher.id}", data=form_of(teacher, minimum="2"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db_session.expire_all()
    assert requirement(db_session, "poste_enseignant").minimum == 2
    assert not summary_meets(db_session, room)
    html = admin.get(f"/ecoles/{school.id}").get_data(as_text=True)
    assert coverage_text(html) == (0, before[1])
    assert "1 / 2 in service" in admin.get(f"/classes/{room.id}").get_data(as_text=True)
    assert coverage_text(admin.get(dashboard).get_data(as_text=True)) == (0, before[1])
    logged = db_session.scalar(
        select(AuditRecord).where(
            AuditRecord.object_type == "socle_requirements", AuditRecord.object_id == teacher.id
        )
    )
    assert logged.action == "update" and logged.changes["minimum"] == [1, 2]


def test_an_administrator_changes_the_ratio_and_the_school_panel_follows(
    app, make_user, db_session, school
):
    with_targets(db_session, school, 4)
    put(db_session, school, None, "tablette", n=3)
    admin = signed_in(app, make_user, Role.ADMIN)
    html = admin.get(f"/ecoles/{school.id}").get_data(as_text=True)
    assert "Mobile pupil equipment (tablets or laptops)" in html
    assert "3 / 10 for 4 target classrooms" in html
    mobile = requirement(db_session, "equipement_mobile")
    data = form_of(mobile, ratio_items="3")
    assert admin.post(f"/socle/exigences/{mobile.id}", data=data).status_code == 302
    html = admin.get(f"/ecoles/{school.id}").get_data(as_text=True)
    assert "3 / 3 for 4 target classrooms" in html
    assert school_check(db_session, school, "equipement_mobile").met


def test_an_administrator_adds_and_deactivates_a_requirement(app, make_user, db_session, school):
    room = school.classrooms[0]
    equip_room(db_session, school, room)
    admin = signed_in(app, make_user, Role.ADMIN)
    dashboard = f"/tableau-de-bord/ecole/{school.id}"
    assert coverage_text(admin.get(dashboard).get_data(as_text=True))[0] == 1
    ref = socle.current_referentiel(db_session)
    url = f"/socle/referentiels/{ref.id}/exigences/nouvelle"
    assert admin.get(url).status_code == 200
    data = {
        "code": "visualiseur",
        "label_fr": "Visualiseur",
        "label_en": "Document camera",
        "level": "classroom",
        "kind": "items",
        "categories": ["visualiseur"],
        "minimum": "1",
        "active": "y",
        "position": "4",
    }
    assert admin.post(url, data=data).status_code == 302
    assert not summary_meets(db_session, room)
    assert coverage_text(admin.get(dashboard).get_data(as_text=True))[0] == 0
    added = requirement(db_session, "visualiseur")
    html = admin.get(f"/socle/classes-manquantes?ecole={school.id}").get_data(as_text=True)
    assert "Document camera" in html and "0 / 1 in service" in html
    toggle = f"/socle/exigences/{added.id}/active"
    assert admin.post(toggle, data={"active": "0"}).status_code == 302
    assert summary_meets(db_session, room)
    assert coverage_text(admin.get(dashboard).get_data(as_text=True))[0] == 1
    page = admin.get(f"/socle/referentiels/{ref.id}").get_data(as_text=True)
    assert "deactivated" in page
    actions = db_session.scalars(
        select(AuditRecord.action).where(
            AuditRecord.object_type == "socle_requirements", AuditRecord.object_id == added.id
        )
    ).all()
    assert sorted(actions) == ["create", "update"]


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"level": "classroom"}, "level", "A ratio per target classrooms is a school requirement"),
        ({"ratio_classes": "0"}, "ratio_classes", "Number must be between 1 and 1000"),
        ({"categories": []}, "categories", "Choose the categories counted"),
        ({"code": "wifi_ecole"}, "code", "already has a requirement wifi_ecole"),
    ],
)
def test_a_wrong_requirement_is_refused_with_its_reason(
    app, make_user, db_session, changes, field, message
):
    mobile = requirement(db_session, "equipement_mobile")
    admin = signed_in(app, make_user, Role.ADMIN)
    response = admin.post(f"/socle/exigences/{mobile.id}", data=form_of(mobile, **changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and f'id="{field}-error"' in html
    db_session.expire_all()
    again = requirement(db_session, "equipement_mobile")
    assert (again.level, again.ratio_classes, again.categories, again.code) == (
        RequirementLevel.SCHOOL,
        4,
        ["tablette", "pc_eleve"],
        "equipement_mobile",
    )


@pytest.mark.parametrize(
    "role, scopes",
    [(Role.TECHNICIEN, "coll"), (Role.AUDITEUR, "acad"), (Role.GESTIONNAIRE, "coll")],
)
def test_only_an_administrator_edits_the_referentiel(
    app, make_user, db_session, school, role, scopes
):
    scope = (
        [("collectivite", school.collectivite_id)]
        if scopes == "coll"
        else [("academie", school.departement.academie_id)]
    )
    client = signed_in(app, make_user, role, scope)
    ref = socle.current_referentiel(db_session)
    teacher = requirement(db_session, "poste_enseignant")
    page = client.get(f"/socle/referentiels/{ref.id}")
    assert page.status_code == 200 and "Teacher laptop" in page.get_data(as_text=True)
    assert "/socle/exigences/" not in page.get_data(as_text=True)
    current = client.get("/socle/referentiel")
    assert current.status_code == 200 and ref.name in current.get_data(as_text=True)
    for url in (
        f"/socle/exigences/{teacher.id}",
        f"/socle/referentiels/{ref.id}/exigences/nouvelle",
    ):
        assert client.get(url).status_code == 404
    posts = {
        f"/socle/exigences/{teacher.id}": form_of(teacher, minimum="5"),
        f"/socle/exigences/{teacher.id}/active": {"active": "0"},
        f"/socle/referentiels/{ref.id}": {"code": "x", "name": "Piraté"},
        f"/socle/referentiels/{ref.id}/copie": {"copy-code": "x", "copy-name": "x"},
        f"/socle/referentiels/{ref.id}/courant": {},
    }
    for url, data in posts.items():
        assert client.post(url, data=data).status_code == 404, url
    db_session.expire_all()
    assert requirement(db_session, "poste_enseignant").minimum == 1
    assert db_session.scalar(select(func.count()).select_from(Referentiel)) == 1


def test_a_copy_changes_no_figure_until_it_is_made_current(app, make_user, db_session, school):
    room = school.classrooms[0]
    equip_room(db_session, school, room)
    admin = signed_in(app, make_user, Role.ADMIN)
    snee = socle.current_referentiel(db_session)
    response = admin.post(
        f"/socle/referentiels/{snee.id}/copie",
        data={"copy-code": "fonds-94", "copy-name": "Fonds départemental 94"},
    )
    assert response.status_code == 302
    copy = db_session.scalar(select(Referentiel).filter_by(code="fonds-94"))
    assert not copy.is_current and len(copy.requirements) == len(snee.requirements)
    display = next(r for r in copy.requirements if r.code == "affichage_collectif")
    data = form_of(display, minimum="2")
    assert admin.post(f"/socle/exigences/{display.id}", data=data).status_code == 302
    assert summary_meets(db_session, room), "a requirement of another référentiel"
    assert admin.post(f"/socle/referentiels/{copy.id}/courant").status_code == 302
    db_session.expire_all()
    assert socle.current_referentiel(db_session).id == copy.id
    assert not summary_meets(db_session, room)
    html = admin.get(f"/classes/{room.id}").get_data(as_text=True)
    assert "Fonds départemental 94" in html and "1 / 2 in service" in html
    assert admin.post(f"/socle/referentiels/{snee.id}/courant").status_code == 302
    assert summary_meets(db_session, room)
    changes = db_session.scalars(
        select(AuditRecord.changes).where(
            AuditRecord.object_type == "socle_referentiels", AuditRecord.action == "update"
        )
    ).all()
    assert {"is_current": [False, True]} in changes and {"is_current": [True, False]} in changes


def test_a_scheme_points_to_its_referentiel(app, make_user, db_session):
    assert grants.install_presets(db_session)
    snee = db_session.scalar(select(FundingScheme).filter_by(code="snee-2021"))
    label = db_session.scalar(select(FundingScheme).filter_by(code="label-ecoles-numeriques-2020"))
    ref = socle.current_referentiel(db_session)
    assert snee.referentiel_id == ref.id and label.referentiel_id is None
    admin = signed_in(app, make_user, Role.ADMIN)
    html = admin.get(f"/subventions/dispositifs/{snee.id}").get_data(as_text=True)
    assert f'href="/socle/referentiels/{ref.id}"' in html
    assert f'href="/subventions/dispositifs/{snee.id}/referentiel"' in html
    url = f"/subventions/dispositifs/{label.id}/referentiel"
    assert admin.get(url).status_code == 200
    assert admin.post(url, data={"referentiel": str(ref.id)}).status_code == 302
    db_session.expire_all()
    assert db_session.get(FundingScheme, label.id).referentiel_id == ref.id
    logged = db_session.scalar(
        select(AuditRecord).where(
            AuditRecord.object_type == "funding_schemes",
            AuditRecord.object_id == label.id,
            AuditRecord.action == "update",
        )
    )
    assert logged.changes["referentiel_id"] == [None, ref.id]


# -- digital services ----------------------------------------------------------------------
def test_a_technician_records_an_ent_from_the_school_page(
    app, make_user, db_session, school, registry
):
    tech = signed_in(app, make_user, Role.TECHNICIEN, [("collectivite", school.collectivite_id)])
    html = tech.get(f"/ecoles/{school.id}").get_data(as_text=True)
    assert f'href="/services-numeriques/nouveau?ecole={school.id}"' in html
    assert "A way to share work (ENT or cloud)" in html
    url = f"/services-numeriques/nouveau?ecole={school.id}"
    form = tech.get(url).get_data(as_text=True)
    assert f'value="{school.id}"' in form
    bad = {"kind": "ent", "name": "ENT 94", "starts_on": "2025-09-01", "ends_on": "2025-01-01"}
    response = tech.post(url, data={**bad, "schools": [str(school.id)]})
    assert response.status_code == 422 and "The end comes before the start" in response.get_data(
        as_text=True
    )
    data = {"kind": "ent", "name": "ENT 94", "provider": "Département", "schools": [str(school.id)]}
    response = tech.post(url, data=data)
    assert response.status_code == 302
    service = db_session.scalar(select(DigitalService).filter_by(name="ENT 94"))
    assert [c.ecole_id for c in service.coverage] == [school.id]
    html = tech.get(f"/ecoles/{school.id}").get_data(as_text=True)
    assert "running service: ENT 94" in html and f'href="/services-numeriques/{service.id}"' in html
    # Its record and its school's, in the change log (the school's history shows it).
    types = set(
        db_session.scalars(
            select(AuditRecord.object_type).where(AuditRecord.action == "create")
        ).all()
    )
    assert {"digital_services", "digital_service_schools"} <= types
    covered = db_session.scalar(
        select(AuditRecord).where(AuditRecord.object_type == "digital_service_schools")
    )
    assert covered.ecole_id == school.id and covered.object_label == "ENT 94"
    # Edited: its end date, with the version it was loaded at.
    edit = {**data, "ends_on": "2020-01-01", "version": str(service.version)}
    assert tech.post(f"/services-numeriques/{service.id}", data=edit).status_code == 302
    html = tech.get(f"/ecoles/{school.id}").get_data(as_text=True)
    assert "not running today" in html and "no running service" in html
    stale = {**data, "version": "1", "name": "ENT ancien"}
    assert tech.post(f"/services-numeriques/{service.id}", data=stale).status_code == 409
    # Another commune's technician and an auditor of another académie see nothing of it.
    fresnes = registry["collectivites"]["Fresnes"]
    other = signed_in(app, make_user, Role.TECHNICIEN, [("collectivite", fresnes)])
    assert other.get(f"/services-numeriques/{service.id}").status_code == 404
    assert other.post(f"/services-numeriques/{service.id}/supprimer").status_code == 404
    assert "ENT 94" not in other.get("/services-numeriques").get_data(as_text=True)
    # An auditor of the académie reads it, and changes nothing.
    auditor = signed_in(
        app, make_user, Role.AUDITEUR, [("academie", school.departement.academie_id)]
    )
    page = auditor.get(f"/services-numeriques/{service.id}")
    main = page.get_data(as_text=True).split("<main")[1].split("</main>")[0]
    assert page.status_code == 200 and "ENT 94" in main and "<form" not in main
    assert auditor.post(f"/services-numeriques/{service.id}", data=data).status_code == 404
    assert "ENT 94" in auditor.get("/services-numeriques").get_data(as_text=True)
    # Deleted by its technician: gone, and logged.
    assert tech.post(f"/services-numeriques/{service.id}/supprimer").status_code == 302
    assert db_session.scalar(select(func.count()).select_from(DigitalService)) == 0
    assert db_session.scalar(
        select(func.count()).where(
            AuditRecord.object_type == "digital_service_schools", AuditRecord.action == "delete"
        )
    )


def test_a_service_covers_only_schools_its_author_looks_after(db_session, school, registry):
    fresnes = db_session.scalar(
        select(Ecole).filter_by(collectivite_id=registry["collectivites"]["Fresnes"])
    )
    tech = _ScopedTechnician(school.collectivite_id)
    with pytest.raises(digital.ServiceError):
        digital.save_service(
            db_session,
            tech,
            None,
            fields=digital.ServiceFields(kind=ServiceKind.ENT, name="ENT"),
            ecole_ids=[school.id, fresnes.id],
            collectivite=school.collectivite,
        )
    db_session.rollback()
    with pytest.raises(digital.ServiceError):
        digital.save_service(
            db_session,
            tech,
            None,
            fields=digital.ServiceFields(kind=ServiceKind.ENT, name="ENT"),
            ecole_ids=[],
            collectivite=school.collectivite,
        )


class _ScopedTechnician:
    id = None
    role = Role.TECHNICIEN

    def __init__(self, collectivite_id: int) -> None:
        from inventory.core.policy import Scope, ScopeKind

        self.scope = Scope(ids={ScopeKind.COLLECTIVITE: frozenset({collectivite_id})})


# -- the catalogue ---------------------------------------------------------------------------
def test_an_administrator_declares_a_models_capabilities_in_the_catalogue(
    app, make_user, db_session, school
):
    room = school.classrooms[0]
    (screen,) = put(db_session, school, room, "eni", model="ActivPanel 9")
    for category in ("poste_enseignant", "borne_wifi"):
        put(db_session, school, room, category)
    admin = signed_in(app, make_user, Role.ADMIN)
    listing = admin.get("/equipements/modeles?q=activpanel").get_data(as_text=True)
    assert f'href="/equipements/modeles/{screen.model_id}"' in listing
    detail = admin.get(f"/equipements/{screen.id}").get_data(as_text=True)
    assert f'href="/equipements/modeles/{screen.model_id}"' in detail
    url = f"/equipements/modeles/{screen.model_id}"
    tech = signed_in(app, make_user, Role.TECHNICIEN, [("collectivite", school.collectivite_id)])
    assert tech.get(url).status_code == 200
    assert tech.post(url, data={"own": "y", "capabilities": list(CAPTURE)}).status_code == 404
    assert not summary_meets(db_session, room)
    response = admin.post(url, data={"own": "y", "capabilities": list(CAPTURE)})
    assert response.status_code == 302
    assert summary_meets(db_session, room)
    html = admin.get(f"/classes/{room.id}").get_data(as_text=True)
    assert "This classroom meets the socle" in html and "Maker ActivPanel 9" in html
