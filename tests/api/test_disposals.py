"""The register of retired items through the API: the batches a token's owner may see,
newest first, key-paged, with their route, eco-organism and items."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from inventory.assets import catalogue, disposal, lifecycle
from inventory.assets.models import DisposalRoute
from inventory.core import storage
from inventory.orgs.models import Ecole
from tests.factories import ADMIN, PDF_HEADER, api_token, bearer


def _batch(app, db_session, ecole_id, route, reference):
    ecole = db_session.get(Ecole, ecole_id)
    model = catalogue.get_or_create_model(
        db_session, "Epson", "EB-680", catalogue.category_by_code(db_session, "vp")
    )
    asset = lifecycle.create_asset(
        db_session, ADMIN, where=lifecycle.Where(ecole.collectivite, ecole), model=model
    )
    with app.app_context():
        done = disposal.retire_batch(
            db_session,
            ADMIN,
            [asset.id],
            disposal.DisposalFields(route, date.today(), "Ecosystem", reference),
            certificate=PDF_HEADER,
            directory=storage.of(app).folder("uploads/assets/disposals"),
            today=date.today(),
        )
    return asset.tag, done.disposal.id


def _school_of(db_session, coll):
    return db_session.scalar(select(Ecole.id).filter_by(collectivite_id=coll).order_by(Ecole.id))


def test_a_token_reads_the_batches_of_its_scope_newest_first(app, registry, make_user, db_session):
    creteil, fresnes = (registry["collectivites"][n] for n in ("Créteil", "Fresnes"))
    mine = _school_of(db_session, creteil)
    first = _batch(app, db_session, mine, DisposalRoute.DEEE, "ECO-1")
    second = _batch(app, db_session, mine, DisposalRoute.REUSE, None)
    _batch(app, db_session, _school_of(db_session, fresnes), DisposalRoute.DEEE, "ECO-FRESNES")
    email = make_user("technicien", [("collectivite", creteil)])
    api = app.test_client()
    headers = bearer(api_token(app, email))
    page = api.get("/api/v1/disposals?limit=1", headers=headers).get_json()
    assert page["total"] == 2
    assert [b["id"] for b in page["items"]] == [second[1]]
    assert page["items"][0]["tags"] == [second[0]] and page["items"][0]["route"] == "reuse"
    following = api.get(
        f"/api/v1/disposals?limit=1&cursor={page['next_cursor']}", headers=headers
    ).get_json()
    (batch,) = following["items"]
    assert (batch["id"], batch["organism_reference"], batch["certificate"]) == (
        first[1],
        "ECO-1",
        True,
    )
    assert following["next_cursor"] is None
