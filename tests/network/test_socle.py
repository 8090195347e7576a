"""The socle's connection requirement met by the network: a classroom covered by an access
point in service, or with a socket of finished cabling works (recorded on the works' page
when they are done), in the per-classroom check and in the summary's SQL alike."""

from __future__ import annotations

from sqlalchemy import select

from inventory.assets import lifecycle, socle
from inventory.assets import works as asset_works
from inventory.assets.models import (
    Asset,
    AssetStatus,
    NetworkWork,
    RequirementLevel,
    WorkKind,
    WorkStatus,
)
from inventory.network.models import NetworkSocket
from inventory.orgs.models import Ecole
from tests.conftest import ADMIN
from tests.network.builders import make_item


def _connected(db_session, ecole_id, rooms):
    """Per room: is the connection requirement met (the Python check), and the SQL tally."""
    db_session.expire_all()
    (req,) = [
        r
        for r in socle.requirements(db_session, RequirementLevel.CLASSROOM)
        if r.code == "connexion"
    ]
    status = socle.classroom_status(db_session, rooms, reqs=[req])
    _, (tally,) = socle.classroom_tallies(db_session, [ecole_id], [req])
    return [status[r].checks[0].met for r in rooms], tally


def test_an_access_point_in_service_connects_the_rooms_it_covers(tech, school, db_session):
    ecole_id, rooms = school["ecole"], school["rooms"][:2]
    ap = make_item(db_session, ecole_id, code="borne_wifi")
    asset = db_session.get(Asset, ap)
    # The access point hangs in the first room; it covers the second one too.
    for to in (AssetStatus.INSTALLED, AssetStatus.IN_SERVICE):
        lifecycle.change_status(db_session, ADMIN, asset, to)
    met, base = _connected(db_session, ecole_id, rooms)
    assert met == [True, False]
    response = tech.post(
        f"/ecoles/{ecole_id}/reseau/couverture",
        data={"asset_id": str(ap), "covered_room": str(rooms[1])},
    )
    assert response.status_code == 302
    met, tally = _connected(db_session, ecole_id, rooms)
    assert met == [True, True] and tally == base + 1
    tab = tech.get(f"/ecoles/{ecole_id}/reseau").get_data(as_text=True)
    assert tab.count(asset.tag) >= 2
    # Under repair, it connects nothing: the room it only covers loses its connection.
    lifecycle.change_status(db_session, ADMIN, db_session.get(Asset, ap), AssetStatus.UNDER_REPAIR)
    met, tally = _connected(db_session, ecole_id, rooms)
    assert met == [False, False] and tally == base - 1


def test_sockets_of_finished_cabling_works_connect_their_room(tech, school, db_session):
    ecole_id, room = school["ecole"], school["rooms"][0]
    ecole = db_session.get(Ecole, ecole_id)
    # Works covering no classroom themselves: their sockets say where they are.
    work = asset_works.save_work(
        db_session,
        ADMIN,
        None,
        ecole=ecole,
        fields=asset_works.WorkFields(kind=WorkKind.CABLING, title="Câblage cour"),
        classroom_ids=[],
    )
    db_session.commit()
    response = tech.post(
        f"/ecoles/{ecole_id}/reseau/prises",
        data={"socket_room": str(room), "label": "P-01", "work_id": str(work.id)},
    )
    assert response.status_code == 302
    assert _connected(db_session, ecole_id, [room])[0] == [False]
    work = db_session.get(NetworkWork, work.id)
    asset_works.save_work(
        db_session,
        ADMIN,
        work,
        ecole=ecole,
        fields=asset_works.WorkFields(
            kind=WorkKind.CABLING, title="Câblage cour", status=WorkStatus.DONE
        ),
        classroom_ids=[],
    )
    db_session.commit()
    assert _connected(db_session, ecole_id, [room])[0] == [True]


def test_finished_works_record_the_sockets_they_installed(tech, school, db_session):
    ecole_id, rooms = school["ecole"], school["rooms"][:2]
    ecole = db_session.get(Ecole, ecole_id)
    work = asset_works.save_work(
        db_session,
        ADMIN,
        None,
        ecole=ecole,
        fields=asset_works.WorkFields(
            kind=WorkKind.CABLING, title="Câblage", status=WorkStatus.DONE
        ),
        classroom_ids=rooms,
    )
    db_session.commit()
    assert tech.post(f"/reseau/travaux/{work.id}/prises").status_code == 302
    assert tech.post(f"/reseau/travaux/{work.id}/prises").status_code == 302  # idempotent
    labels = db_session.scalars(select(NetworkSocket.classroom_id).filter_by(work_id=work.id)).all()
    assert sorted(labels) == sorted(rooms)
    page = tech.get(f"/travaux/{work.id}").get_data(as_text=True)
    assert 'Network sockets installed <span class="muted">(2)</span>' in page
