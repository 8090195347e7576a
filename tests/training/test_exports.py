"""What sessions export: the iCalendar feed, the attendance sheet, the attachments."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta

import icalendar
import pypdfium2
import pytest
from sqlalchemy import select

from inventory.core import storage
from inventory.core.uploads import UploadError
from inventory.orgs.models import Classroom
from inventory.training import calendar
from inventory.training.attachments import DOCUMENT_MAX_BYTES, add_document
from inventory.training.models import TrainingDocument
from inventory.training.sessions import cancel_session
from inventory.training.times import local, local_day, to_utc
from tests.conftest import ADMIN
from tests.factories import count, pdf_text
from tests.training.builders import A1, A2, B1, client_for, days_ago, session_at


def events_of(body: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(body)
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_calendar_export_parses_back_and_is_scoped(app, world, db_session):
    long_title = "Prise en main de l'écran numérique interactif, du visualiseur; et des tablettes"
    first = session_at(
        db_session,
        [world.ids[A1], world.ids[A2]],
        datetime(2030, 3, 12, 13, 30, tzinfo=UTC),
        title=long_title,
        topics=[world.topics["prise_en_main_eni"], world.topics["visualiseur"]],
        duration=150,
    )
    held = session_at(db_session, [world.ids[A2]], days_ago(5), held=True, title="ENT")
    elsewhere = session_at(db_session, [world.ids[B1]], days_ago(-5), title="Fresnes")
    cancelled = session_at(db_session, [world.ids[A1]], days_ago(-6), title="Annulée")
    cancel_session(db_session, ADMIN, cancelled, version=cancelled.version)

    client = client_for(app, world.users["trainer_a"])
    response = client.get("/accompagnement/planning.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    body = response.data
    # CRLF line ends, lines folded at 75 octets.
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    assert max(len(line) for line in body.split(b"\r\n")) <= 75
    events = events_of(body)
    assert set(events) == {
        f"training-session-{first.id}@socle.example.fr",
        f"training-session-{held.id}@socle.example.fr",
    }
    event = events[f"training-session-{first.id}@socle.example.fr"]
    assert str(event["summary"]) == long_title  # escaped commas and semicolons come back
    assert event.decoded("dtstart") == datetime(2030, 3, 12, 13, 30, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2030, 3, 12, 16, 0, tzinfo=UTC)
    assert b"DTSTART:20300312T133000Z" in body
    description = str(event["description"])
    assert "Ecole élémentaire Victor Hugo" in description
    assert "Ecole élémentaire Blaise Pascal" in description
    assert "Getting started with the interactive screen or board" in description
    assert "\n" in description  # one fact per line
    assert str(event["location"])
    assert f"/accompagnement/{first.id}" in str(event["url"])

    # The UIDs do not change from one export to the next; the filters apply.
    again = events_of(client.get("/accompagnement/planning.ics").data)
    assert set(again) == set(events)
    only = events_of(client.get(f"/accompagnement/planning.ics?ecole={world.ids[A1]}").data)
    assert set(only) == {f"training-session-{first.id}@socle.example.fr"}

    # The other circonscription's trainer gets the other session only.
    other = client_for(app, world.users["trainer_b"])
    assert set(events_of(other.get("/accompagnement/planning.ics").data)) == {
        f"training-session-{elsewhere.id}@socle.example.fr"
    }


def test_private_feed_link_works_without_a_session_until_the_password_changes(
    app, world, db_session
):
    from inventory.auth.models import User
    from inventory.auth.services import set_password

    planned = session_at(db_session, [world.ids[A1]], days_ago(-5))
    session_at(db_session, [world.ids[B1]], days_ago(-5), title="Fresnes")
    client = client_for(app, world.users["trainer_a"])
    html = client.get("/accompagnement").get_data(as_text=True)
    link = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', html).group(1)
    assert link.startswith("https://socle.example.fr/accompagnement/agenda/")
    path = link.removeprefix("https://socle.example.fr")

    anonymous = app.test_client()
    response = anonymous.get(path)
    assert response.status_code == 200
    assert set(events_of(response.data)) == {f"training-session-{planned.id}@socle.example.fr"}
    # A forged or broken token: sent to the sign-in page.
    assert anonymous.get(path[:-10] + "xxxxxx.ics").status_code == 302
    assert anonymous.get("/accompagnement/agenda/nope.ics").status_code == 302

    user = db_session.scalar(select(User).filter_by(email=world.users["trainer_a"]))
    set_password(db_session, user, "another-long-passphrase-2030")
    db_session.commit()
    assert anonymous.get(path).status_code == 302


def test_ics_folding_never_cuts_a_character():
    line = "DESCRIPTION:" + "é" * 100 + "x" * 3
    folded = calendar.fold(line)
    parts = folded.encode().split(b"\r\n")
    assert all(len(p) <= 75 for p in parts)
    assert all(p.startswith(b" ") for p in parts[1:])
    assert "".join(p.decode()[1:] if i else p.decode() for i, p in enumerate(parts)) == line
    assert calendar.ics_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_attendance_sheet_lists_the_classrooms_of_each_school(app, world, db_session):
    ts = session_at(
        db_session,
        [world.ids[A1], world.ids[A2]],
        days_ago(-3),
        title="Écran numérique : premiers pas en CP–CE1",
        topics=[world.topics["prise_en_main_eni"]],
    )
    client = client_for(app, world.users["municipal_a"])
    response = client.get(f"/accompagnement/{ts.id}/emargement.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    first_page = pypdfium2.PdfDocument(response.data)[0].get_textpage().get_text_range()
    assert "Écran numérique : premiers pas en CP–CE1" in first_page
    assert "Ecole élémentaire Victor Hugo" in first_page
    text = pdf_text(response.data)
    assert "Ecole élémentaire Blaise Pascal" in text
    for ecole_id in (world.ids[A1], world.ids[A2]):
        rooms = db_session.scalars(select(Classroom).where(Classroom.ecole_id == ecole_id)).all()
        assert rooms
        for room in rooms:
            assert room.name in text
            if room.levels:
                assert ", ".join(room.level_list) in text
    assert "Élise Martin" in text  # accents render (and extract) as typed


def office_file(kind: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        if kind == "odp":
            z.writestr(
                zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.presentation"
            )
            z.writestr("content.xml", "<x/>")
        else:
            parts = {"pptx": "ppt/presentation.xml", "docx": "word/document.xml"}
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr(parts.get(kind, "xl/workbook.xml"), "<x/>")
    return buf.getvalue()


ATTACHMENTS = [
    ("diapos.pdf", b"%PDF-1.7\n" + bytes(64), True),
    ("photo.jpg", b"\xff\xd8\xff\xe0" + bytes(64), True),
    ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), True),
    ("support.odp", office_file("odp"), True),
    ("support.pptx", office_file("pptx"), True),
    ("compte-rendu.docx", office_file("docx"), True),
    ("virus.pdf", b"MZ\x90\x00" + bytes(64), False),
    ("tableur.pptx", office_file("xlsx"), False),
    ("page.png", b"<html><script>alert(1)</script>", False),
]


def test_attachments_are_checked_by_content(app, world, db_session):
    ts = session_at(db_session, [world.ids[A1]], days_ago(1))
    client = client_for(app, world.users["trainer_a"])
    auditor = client_for(app, world.users["auditor_a"])
    elsewhere = client_for(app, world.users["trainer_b"])
    for name, data, accepted in ATTACHMENTS:
        response = client.post(
            f"/accompagnement/{ts.id}/documents",
            data={"file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
        if not accepted:
            assert response.status_code == 422, name
            assert 'id="file-error"' in response.get_data(as_text=True)
            assert count(db_session, TrainingDocument) == 0
            continue
        assert response.status_code == 302, name
        doc = db_session.scalar(select(TrainingDocument))
        assert doc.filename == name and doc.size == len(data)
        folder, stored = storage.of(app).folder("uploads/training"), doc.stored_name
        assert folder.read(stored) == data
        url = f"/accompagnement/documents/{doc.id}"
        with client.get(url) as served:
            assert served.status_code == 200 and served.data == data
            assert served.headers["X-Content-Type-Options"] == "nosniff"
            inline = name.endswith((".jpg", ".png"))
            assert served.headers["Content-Disposition"].startswith(
                "inline" if inline else "attachment"
            )
        # Readers in scope may download; out of scope, nothing.
        with auditor.get(url) as served:
            assert served.status_code == 200
        assert elsewhere.get(url).status_code == 404
        assert client.post(f"/accompagnement/documents/{doc.id}/supprimer").status_code == 302
        assert count(db_session, TrainingDocument) == 0
        assert not folder.exists(stored)

    # 20 MB at most (the service checks it; the request size limit comes first over HTTP).
    big = b"%PDF-1.7\n" + bytes(DOCUMENT_MAX_BYTES)
    folder = storage.of(app).folder("uploads/training")
    with pytest.raises(UploadError) as err:
        add_document(db_session, ADMIN, ts, "gros.pdf", big, folder)
    assert err.value.field == "file"
    assert count(db_session, TrainingDocument) == 0
    assert not list(folder.list())


def test_local_time_helpers():
    summer = to_utc(datetime(2030, 7, 1).date(), datetime(2030, 7, 1, 9).time())
    assert summer == datetime(2030, 7, 1, 7, tzinfo=UTC)
    assert local_day(datetime(2030, 7, 1, 22, 30, tzinfo=UTC)).isoformat() == "2030-07-02"
    assert timedelta(0) == local(summer).utcoffset() - timedelta(hours=2)
