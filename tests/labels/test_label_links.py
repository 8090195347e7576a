"""Labels from the pages they belong to: an item's page prints its own label (through the
print service and its log) and downloads it as PNG or SVG; a classroom's page prints the
labels of its items. Only the staff who may print see these links."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from inventory.labels.models import PrintJob


def _href(html: str, link_id: str) -> str:
    found = re.search(rf'id="{link_id}" href="([^"]+)"', html)
    assert found, f"no link #{link_id}"
    return unescape(found.group(1))


def test_an_items_page_prints_its_label_and_downloads_it(login_as, items, db_session):
    client = login_as("technicien", [("collectivite", items["coll"])])
    asset = items["assets"][0]
    html = client.get(f"/equipements/{asset.id}").get_data(as_text=True)
    link = _href(html, "print-item-label")
    page = client.get(link)
    assert page.status_code == 200
    assert "1 équipement sélectionné" in page.get_data(as_text=True)
    pdf = client.post(link, data={"format": "avery-l7160", "start": 1, "action": "print"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    job = db_session.scalar(select(PrintJob))
    assert job.asset_ids == [asset.id] and job.count == 1
    for fmt, mimetype in (("png", "image/png"), ("svg", "image/svg+xml")):
        assert f'href="/equipements/{asset.id}/etiquette.{fmt}"' in html
        with client.get(f"/equipements/{asset.id}/etiquette.{fmt}") as image:
            assert image.status_code == 200 and image.mimetype == mimetype


def test_a_classrooms_page_prints_the_labels_of_its_items(login_as, items, db_session):
    client = login_as("technicien", [("collectivite", items["coll"])])
    asset = items["assets"][2]
    html = client.get(f"/classes/{asset.classroom_id}").get_data(as_text=True)
    link = _href(html, "print-classroom-labels")
    assert client.get(link).status_code == 200
    pdf = client.post(link, data={"format": "avery-l7160", "start": 1, "action": "print"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    job = db_session.scalar(select(PrintJob))
    assert job.asset_ids == [asset.id]  # the classroom's one item, no other


def test_who_may_not_print_sees_no_label_link(login_as, items):
    academie = items["ecole"].departement.academie_id
    client = login_as("auditeur", [("academie", academie)])
    asset = items["assets"][0]
    html = client.get(f"/equipements/{asset.id}").get_data(as_text=True)
    assert 'id="print-item-label"' not in html and "/etiquette.png" not in html
    room = client.get(f"/classes/{asset.classroom_id}").get_data(as_text=True)
    assert 'id="print-classroom-labels"' not in room
    assert client.get(f"/equipements/{asset.id}/etiquette.png").status_code == 404
