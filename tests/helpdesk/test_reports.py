"""The public side of the helpdesk, through HTTP: the scan page, reports, duplicates, abuse
resistance, photos and the follow-up page."""

from __future__ import annotations

import io
import re

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select

from inventory.assets.models import Asset, AssetStatus, StatusChange
from inventory.core import storage
from inventory.helpdesk.models import Ticket, TicketMessage, TicketPhoto, TicketStatus
from inventory.labels import tokens
from inventory.labels.models import ScanToken
from tests.factories import (  # noqa: F401  (SERIAL..IP: what the public page must hide)
    ADMIN,
    IP,
    MAC,
    SERIAL,
    SUPPLIER,
    UAI,
    build_world,
    count,
    fresh,
    login,
    outbox,
    report,
)


@pytest.fixture
def world(registry, db_session):
    return build_world(db_session)


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch):
    """Accounts are not what these tests are about: hash their passwords cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


@pytest.fixture
def anonymous(app):
    return app.test_client()


def test_public_page_shows_the_item_and_leaks_nothing(app, world, anonymous, make_user, db_session):
    types = world["types"]
    # Another person's report, then the staff's work on it: none of it may show publicly.
    first = report(
        anonymous,
        world["token"],
        types["son"],
        "Pas de son depuis lundi",
        name="Jeanne Rapporteuse",
        email="jeanne.secret@example.org",
    )
    assert first.status_code == 200
    tech_email = make_user(
        "technicien", [("collectivite", world["coll"])], email="bernadette.dupuis@example.org"
    )
    staff = app.test_client()
    assert login(staff, tech_email).status_code == 302
    ticket = db_session.scalar(select(Ticket))
    page = staff.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    version = page.split('name="version" value="')[1].split('"')[0]
    staff.post(
        f"/tickets/{ticket.id}/messages",
        data={"body": "Nous passons jeudi.", "visibility": "public", "version": version},
    )
    db_session.expire_all()
    staff_name = "Bernadette.Dupuis"
    assert staff_name in staff.get(f"/tickets/{ticket.id}").get_data(as_text=True)

    response = anonymous.get(f"/q/{world['token']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    screen = fresh(db_session, Asset, world["screen"].id)
    for shown in (screen.tag, "Speechi SPE-75", world["ecole"].name, world["rooms"][0].name):
        assert shown in html
    assert "Pas de son" in html or "No sound" in html  # the open problem, by type
    for secret in (
        SERIAL,
        SUPPLIER,
        screen.mac,
        MAC,
        IP,
        "1234,56",
        "1 234,56",
        "1234.56",
        "123456",
        "CMD-77",
        staff_name,
        "Bernadette",
        "Jeanne",
        "jeanne.secret@example.org",
        tech_email,
        "Pas de son depuis lundi",  # another reporter's words stay on their follow-up page
    ):
        assert secret not in html, secret
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"

    follow = anonymous.get(f"/suivi/{ticket.follow_token}").get_data(as_text=True)
    assert "Nous passons jeudi." in follow
    for secret in (staff_name, "Bernadette", tech_email, "jeanne.secret@example.org", SERIAL, IP):
        assert secret not in follow, secret


def test_a_report_opens_a_ticket_puts_the_item_under_repair_and_tells_the_staff(
    world, anonymous, make_user, db_session
):
    tech = make_user("technicien", [("collectivite", world["coll"])])
    make_user("technicien", [("collectivite", world["coll"] + 999)])  # elsewhere: not told
    response = report(
        anonymous,
        world["token"],
        world["types"]["tactile_stylet"],
        email="Enseignante@Example.org",
        name="Mme Martin",
    )
    assert response.status_code == 200
    ticket = db_session.scalar(select(Ticket))
    assert ticket.status is TicketStatus.NEW and ticket.blocking and ticket.reports == 1
    assert ticket.asset_id == world["screen"].id
    assert ticket.classroom_id == world["rooms"][0].id
    assert ticket.reporter_email == "enseignante@example.org"
    assert len(ticket.follow_token) >= 32
    html = response.get_data(as_text=True)
    assert f"/suivi/{ticket.follow_token}" in html

    asset = fresh(db_session, Asset, world["screen"].id)
    assert asset.status is AssetStatus.UNDER_REPAIR
    change = db_session.scalars(
        select(StatusChange).filter_by(asset_id=asset.id).order_by(StatusChange.id.desc())
    ).first()
    assert change.to_status is AssetStatus.UNDER_REPAIR
    assert re.search(rf"\b{ticket.id}\b", change.note) and "Ticket" in change.note

    mails = outbox(db_session)
    assert {m.to for m in mails} == {tech, "enseignante@example.org"}
    to_staff = next(m for m in mails if m.to == tech)
    assert f"/tickets/{ticket.id}" in to_staff.body
    to_reporter = next(m for m in mails if m.to != tech)
    assert f"/suivi/{ticket.follow_token}" in to_reporter.body

    follow = anonymous.get(f"/suivi/{ticket.follow_token}")
    assert follow.status_code == 200
    assert "Le stylet ne répond plus." in follow.get_data(as_text=True)
    assert anonymous.get("/suivi/not-a-real-follow-token").status_code == 404


def test_item_pages_offer_the_problems_of_their_category_and_rooms_their_own(
    world, anonymous, db_session
):
    screen = anonymous.get(f"/q/{world['token']}").get_data(as_text=True)
    laptop = anonymous.get(f"/Q/{world['laptop_token']}").get_data(as_text=True)
    room = anonymous.get(f"/q/{world['room_token']}").get_data(as_text=True)
    ids = world["types"]
    assert f'value="{ids["tactile_stylet"]}"' in screen
    assert f'value="{ids["tactile_stylet"]}"' not in laptop
    assert f'value="{ids["logiciel"]}"' in laptop
    assert f'value="{ids["wifi"]}"' in room and f'value="{ids["tactile_stylet"]}"' not in room
    # A type of another category is refused even when crafted.
    refused = report(anonymous, world["laptop_token"], ids["tactile_stylet"])
    assert refused.status_code == 422 and count(db_session, Ticket) == 0
    # The room's own form makes a room ticket.
    assert report(anonymous, world["room_token"], ids["wifi"], "Le wifi coupe").status_code == 200
    ticket = db_session.scalar(select(Ticket))
    assert ticket.asset_id is None and ticket.classroom_id == world["rooms"][0].id
    assert ticket.blocking is False
    # A problem that does not block the item leaves it in service.
    assert report(anonymous, world["token"], ids["son"]).status_code == 200
    assert fresh(db_session, Asset, world["screen"].id).status is AssetStatus.IN_SERVICE


def test_the_same_open_problem_is_joined_not_duplicated(world, anonymous, db_session):
    pen = world["types"]["tactile_stylet"]
    report(anonymous, world["token"], pen, email="premiere@example.org")
    ticket = db_session.scalar(select(Ticket))

    offer = report(anonymous, world["token"], pen, "Même chose en CM1", email="second@example.org")
    assert offer.status_code == 200
    html = offer.get_data(as_text=True)
    assert 'name="join" type="hidden" value="1"' in html or 'value="1" name="join"' in html
    assert "Même chose en CM1" in html  # the text is kept for the confirmation
    assert count(db_session, Ticket) == 1

    joined = report(
        anonymous, world["token"], pen, "Même chose en CM1", email="second@example.org", join="1"
    )
    assert joined.status_code == 200
    assert f"/suivi/{ticket.follow_token}" in joined.get_data(as_text=True)
    assert count(db_session, Ticket) == 1
    ticket = db_session.scalar(select(Ticket))
    assert ticket.reports == 2
    assert ticket.reporter_email == "premiere@example.org"
    assert [f.email for f in ticket.followers] == ["premiere@example.org", "second@example.org"]
    message = db_session.scalar(select(TicketMessage))
    assert message.body == "Même chose en CM1" and not message.internal
    assert "second@example.org" in {m.to for m in outbox(db_session)}
    # Another item, or another problem, is another ticket.
    report(anonymous, world["token2"], pen)
    report(anonymous, world["token"], world["types"]["son"])
    assert count(db_session, Ticket) == 3


def test_the_honeypot_answers_politely_and_stores_nothing(world, anonymous, db_session):
    html = anonymous.get(f"/q/{world['token']}").get_data(as_text=True)
    trap = html.split('class="hp-field"')[1].split("</div>")[0]
    assert 'tabindex="-1"' in trap and 'autocomplete="off"' in trap
    assert 'for="website"' in trap
    response = report(
        anonymous,
        world["token"],
        world["types"]["tactile_stylet"],
        website="http://spam.example",
        email="bot@example.org",
    )
    assert response.status_code == 200
    assert "/suivi/" in response.get_data(as_text=True)
    assert count(db_session, Ticket) == 0
    assert outbox(db_session) == []
    assert fresh(db_session, Asset, world["screen"].id).status is AssetStatus.IN_SERVICE


def test_the_sixth_report_in_a_minute_is_refused_politely_and_nothing_is_lost(
    world, anonymous, db_session
):
    codes = ["tactile_stylet", "ne_s_allume_pas", "image", "son", "reseau"]
    for i, code in enumerate(codes):
        response = report(anonymous, world["token"], world["types"][code], f"Problème {i}")
        assert response.status_code == 200, code
    assert count(db_session, Ticket) == 5

    refused = report(
        anonymous, world["token2"], world["types"]["casse"], "Le sixième, écrit avec soin"
    )
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "Le sixième, écrit avec soin" in html  # the typed text is kept
    assert 'name="description"' in html  # the form is shown again
    assert count(db_session, Ticket) == 5
    assert count(db_session, Ticket, Ticket.description == "Le sixième, écrit avec soin") == 0
    assert {t.description for t in db_session.scalars(select(Ticket))} == {
        f"Problème {i}" for i in range(5)
    }
    # Reading the page is never limited.
    assert anonymous.get(f"/q/{world['token2']}").status_code == 200


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize(
    "app_config", [{"HELPDESK_REPORT_LIMITS": ("100 per minute", "2 per hour")}], indirect=True
)
def test_reports_about_one_label_are_limited_too(world, anonymous, db_session):
    for code in ("tactile_stylet", "son"):
        assert report(anonymous, world["token"], world["types"][code]).status_code == 200
    assert report(anonymous, world["token"], world["types"]["image"]).status_code == 429
    assert report(anonymous, world["token2"], world["types"]["image"]).status_code == 200
    assert count(db_session, Ticket) == 3


def test_a_form_with_mistakes_is_explained_and_keeps_the_text(world, anonymous, db_session):
    response = report(
        anonymous, world["token"], world["types"]["son"], "x" * 2001, email="pas-un-email"
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "x" * 2001 in html and "pas-un-email" in html
    assert report(anonymous, world["token"], "", "Sans type").status_code == 422
    assert count(db_session, Ticket) == 0
    # Mistakes do not count against the limit of five reports a minute.
    for _ in range(5):
        assert report(anonymous, world["token"], "", "").status_code == 422
    assert report(anonymous, world["token"], world["types"]["son"]).status_code == 200


def test_a_revoked_label_refuses_reports(world, anonymous, db_session):
    token = db_session.scalar(select(ScanToken).filter_by(token=world["token"]))
    tokens.reissue(db_session, token)
    db_session.commit()
    page = anonymous.get(f"/q/{world['token']}")
    assert page.status_code == 410
    assert "remplacée" in page.get_data(as_text=True) or "replaced" in page.get_data(as_text=True)
    refused = report(anonymous, world["token"], world["types"]["son"])
    assert refused.status_code == 410
    assert count(db_session, Ticket) == 0
    assert anonymous.get("/q/AAAAAAAAAAAAAAAA").status_code == 404


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (2400, 1200), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 21.0, 3.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def test_photos_are_reencoded_without_their_metadata(app, world, anonymous, db_session):
    response = report(
        anonymous,
        world["token"],
        world["types"]["casse"],
        photo=(io.BytesIO(_jpeg_with_gps()), "IMG_0001.JPG"),
    )
    assert response.status_code == 200
    photo = db_session.scalar(select(TicketPhoto))
    data = storage.of(app).folder("uploads/tickets").read(photo.stored_name)
    assert photo.content_type == "image/jpeg"
    assert "IMG_0001" not in photo.stored_name
    assert b"PhoneMaker" not in data and b"Exif" not in data
    stored = Image.open(io.BytesIO(data))
    assert stored.format == "JPEG" and max(stored.size) == 1600
    assert not stored.getexif() and "exif" not in stored.info

    # Not an image, whatever its name says: refused, the text kept, nothing stored.
    refused = report(
        anonymous,
        world["token2"],
        world["types"]["casse"],
        "Texte gardé",
        photo=(io.BytesIO(b"<?php echo 'x'; ?>"), "photo.jpg"),
    )
    assert refused.status_code == 422 and "Texte gardé" in refused.get_data(as_text=True)
    assert count(db_session, Ticket) == 1
    assert len(list(storage.of(app).folder("uploads/tickets").list())) == 1


def test_staff_in_scope_land_on_the_item_page_others_see_the_public_one(
    app, world, make_user, registry
):
    inside, outside = app.test_client(), app.test_client()
    login(inside, make_user("technicien", [("collectivite", world["coll"])]))
    creteil = registry["collectivites"]["Créteil"]
    login(outside, make_user("technicien", [("collectivite", creteil)]))
    item = inside.get(f"/q/{world['token'].lower()}")
    assert item.location.endswith(f"/equipements/{world['screen'].id}")
    room = inside.get(f"/Q/{world['room_token']}")
    assert room.location.endswith(f"/classes/{world['rooms'][0].id}")
    public = outside.get(f"/q/{world['token']}")
    assert public.status_code == 200 and SERIAL not in public.get_data(as_text=True)
