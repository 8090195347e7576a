"""BASE_URL, the address in the QR codes: configured, taken from the request in a test app,
and, unset in production, label printing refuses and says why."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from inventory.labels.models import PrintJob, ScanToken
from tests.factories import signed_in

QR = zxingcpp.BarcodeFormat.QRCode
# A production app (neither debug nor testing), reached over plain HTTP by the test client.
PRODUCTION = {"TESTING": False, "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


def _admin_page(app, make_user):
    admin, _ = signed_in(app, make_user, "admin")
    page = admin.get("/admin/users")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _png_url(client, asset_id):
    png = client.get(f"/equipements/{asset_id}/etiquette.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)), formats=QR)
    assert len(decoded) == 1
    return decoded[0].text


@pytest.mark.parametrize(
    "app_config", [{"BASE_URL": "https://socle.ville-exemple.fr/"}], indirect=True
)
def test_a_configured_address_is_printed_and_shown_to_the_administrator(
    app, make_user, login_as, items
):
    tech = login_as("technicien", [("collectivite", items["coll"])])
    url = _png_url(tech, items["assets"][0].id)
    assert url.startswith("HTTPS://SOCLE.VILLE-EXEMPLE.FR/Q/")
    page = _admin_page(app, make_user)
    assert "Adresse imprimée dans les QR codes : https://socle.ville-exemple.fr<" in page


def test_a_test_app_without_base_url_prints_the_address_it_is_reached_at(
    app, make_user, login_as, items
):
    tech = login_as("technicien", [("collectivite", items["coll"])])
    assert _png_url(tech, items["assets"][0].id).startswith("HTTP://LOCALHOST/Q/")
    page = _admin_page(app, make_user)
    assert "Adresse imprimée dans les QR codes : http://localhost" in page
    assert "BASE_URL n’est pas défini" in page


@pytest.mark.parametrize("app_config", [PRODUCTION], indirect=True)
def test_production_without_base_url_refuses_to_print_and_says_why(
    app, make_user, login_as, items, db_session
):
    tech = login_as("technicien", [("collectivite", items["coll"])])
    asset = items["assets"][0]
    why = "Définissez BASE_URL"

    form = tech.get(f"/etiquettes?ecole={items['ecole'].id}")
    assert form.status_code == 200 and why in form.get_data(as_text=True)
    for action in ("print", "preview"):
        data = {"ecole": items["ecole"].id, "format": "avery-l7160", "start": 1}
        refused = tech.post("/etiquettes", data={**data, "action": action})
        assert refused.status_code == 422 and refused.mimetype == "text/html"
        assert why in refused.get_data(as_text=True)
    for fmt in ("png", "svg"):
        single = tech.get(f"/equipements/{asset.id}/etiquette.{fmt}")
        assert single.status_code == 503 and single.mimetype == "text/html"
        assert why in single.get_data(as_text=True)
    # Nothing was printed: no code issued, nothing in the print log.
    assert db_session.scalar(select(func.count()).select_from(ScanToken)) == 0
    assert db_session.scalar(select(func.count()).select_from(PrintJob)) == 0

    page = _admin_page(app, make_user)
    assert why in page and "Adresse imprimée dans les QR codes" not in page


@pytest.mark.parametrize("app_config", [{**PRODUCTION, "LABEL_SYNC_LIMIT": 2}], indirect=True)
def test_production_without_base_url_queues_no_large_print(login_as, items, db_session):
    tech = login_as("technicien", [("collectivite", items["coll"])])
    refused = tech.post(
        "/etiquettes",
        data={"ecole": items["ecole"].id, "format": "avery-l7160", "start": 1, "action": "print"},
    )
    assert refused.status_code == 422 and "Définissez BASE_URL" in refused.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(PrintJob)) == 0
