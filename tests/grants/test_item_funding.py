"""The funding panel of an item's and of works' page: the dossier and invoice that paid for
it, its share of the aid (from the funding engine) and the collectivité's remainder; an
empty state when nothing funds it; amounts only for who may see the dossier."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from inventory.assets.models import Asset, NetworkWork
from inventory.grants.breakdown import dossier_summary
from inventory.grants.dossiers import dossier_detail
from inventory.grants.item_funding import asset_funding
from inventory.grants.models import Dossier, Expense
from tests.conftest import ADMIN
from tests.factories import ROLES, login


def _money(cents: int) -> str:
    """The French display of an amount, as the pages write it."""
    euros, rest = divmod(cents, 100)
    return f"{euros:,}".replace(",", "\u202f") + f",{rest:02d}\u00a0€"


def test_the_item_page_shows_the_dossier_invoice_share_and_remainder(app, access_world, db_session):
    objects = access_world["objects"]
    asset_id, dossier_id = objects[Asset][0], objects[Dossier][0]
    dossier = dossier_detail(db_session, ADMIN, dossier_id)
    expense = db_session.get(Expense, objects[Expense][0])
    # One invoice, one school, one volet: the invoice brings the whole aid of the dossier,
    # and the item its part of the invoice (1,000 € linked of 6,000 € incl. VAT).
    aid = dossier_summary(dossier).aid_cents
    assert aid > 0
    share = int((Decimal(aid) * 100_000 / expense.amount_ttc_cents).quantize(1, ROUND_HALF_UP))
    funding = asset_funding(db_session, ADMIN, db_session.get(Asset, asset_id))
    assert funding.aid_cents == share and funding.linked_cents == 100_000
    assert funding.remainder_cents == 100_000 - share  # no price: the invoices' amount

    client = app.test_client()
    login(client, access_world["emails"]["gestionnaire"])
    html = client.get(f"/equipements/{asset_id}").get_data(as_text=True)
    panel = html[
        html.index('id="funding-title"') : html.index(
            "</section>", html.index('id="funding-title"')
        )
    ]
    assert f'href="/subventions/{dossier_id}"' in panel
    assert f'href="/subventions/depenses/{expense.id}/facture"' in panel  # the invoice file
    assert "Speechi F-1" in panel
    assert _money(share) in panel and _money(100_000 - share) in panel


def test_works_without_funding_say_so(app, access_world):
    client = app.test_client()
    login(client, access_world["emails"]["technicien"])
    html = client.get(f"/travaux/{access_world['objects'][NetworkWork][0]}").get_data(as_text=True)
    assert 'id="funding-empty"' in html
    assert "Aucun dossier de subvention visible pour vous n’est lié à ces travaux" in html


def test_the_panel_shows_amounts_only_to_who_may_open_the_dossier(app, access_world, db_session):
    objects = access_world["objects"]
    asset_id, dossier_id = objects[Asset][0], objects[Dossier][0]
    seen = {}
    for role_name, spec in ROLES.items():
        if spec is None:
            continue
        client = app.test_client()
        login(client, access_world["emails"][role_name])
        item = client.get(f"/equipements/{asset_id}")
        if item.status_code != 200:
            continue  # the item itself is out of this role's reach
        html = item.get_data(as_text=True)
        may_open = client.get(f"/subventions/{dossier_id}").status_code == 200
        shows = f'href="/subventions/{dossier_id}"' in html and 'id="funding-aid"' in html
        assert shows is may_open, role_name
        if not may_open:
            assert 'id="funding-empty"' in html
        seen[role_name] = shows
    assert seen["gestionnaire"] and seen["technicien"]
    # The item out of scope answers 404, its panel with it.
    client = app.test_client()
    login(client, access_world["emails"]["gestionnaire"])
    assert client.get(f"/equipements/{objects[Asset][1]}").status_code == 404


def test_a_dossier_out_of_scope_funds_nothing_one_can_see(access_world, db_session, app):
    """Read as someone whose scope holds no dossier: the links are not read at all."""
    from inventory.auth.models import User

    objects = access_world["objects"]
    outside = db_session.get(Asset, objects[Asset][1])
    tech = db_session.scalar(select(User).filter_by(email=access_world["emails"]["technicien"]))
    assert not asset_funding(db_session, tech, outside).funded
    assert asset_funding(db_session, ADMIN, outside).funded
