"""Builders the tests share, named in the domain's words and made through the app's own
services, so that a test reads as the steps a user takes. Plain functions, no fixtures: a
test module imports what it needs from here (or asks a conftest.py fixture), never from
another test module (tests/test_architecture.py checks it)."""

from __future__ import annotations

import struct
import zlib
from datetime import date, timedelta
from typing import Any

import pypdfium2
from flask.testing import FlaskClient
from sqlalchemy import func, select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import AssetStatus
from inventory.core.mail import OutboxMessage
from inventory.core.policy import Role, Scope
from inventory.helpdesk.models import ProblemType
from inventory.labels import tokens
from inventory.orgs.models import Classroom, Ecole

PASSWORD = "correct-horse-battery-staple"


class Admin:
    """The actor of set-up steps: allowed everything, tied to no account."""

    id = None
    role = Role.ADMIN
    scope = Scope(everything=True)


ADMIN = Admin()


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"email": email, "password": password})


def signed_in(app, make_user, role, scopes=(), email=None):
    """A client signed in as a new account of this role and scopes, and its address."""
    client = app.test_client()
    address = make_user(role, list(scopes), email=email)
    assert login(client, address).status_code == 302
    return client, address


# -- helpdesk ------------------------------------------------------------------------------
UAI = "0940176F"  # a Fresnes school of the sample registry
SERIAL = "SN-SECRET-0042"
SUPPLIER = "Fournisseur Confidentiel SARL"
MAC = "00:1a:2b:3c:4d:5e"
IP = "10.20.30.40"


def build_world(db_session: Any) -> dict[str, Any]:
    """Two interactive screens (one with every private detail filled) and a laptop in the
    first rooms of a Fresnes school, with their label tokens and the first room's."""
    ecole = db_session.scalar(select(Ecole).filter_by(uai=UAI))
    rooms = db_session.scalars(
        select(Classroom).filter_by(ecole_id=ecole.id).order_by(Classroom.id)
    ).all()[:3]
    eni = catalogue.category_by_code(db_session, "eni")
    screen_model = catalogue.get_or_create_model(db_session, "Speechi", "SPE-75", eni)
    laptop_model = catalogue.get_or_create_model(
        db_session,
        "Dell",
        "Latitude 3540",
        catalogue.category_by_code(db_session, "poste_enseignant"),
    )

    def item(model, room, **fields):
        where = lifecycle.Where(ecole.collectivite, ecole, room)
        return lifecycle.create_asset(
            db_session,
            ADMIN,
            where=where,
            model=model,
            status=AssetStatus.IN_SERVICE,
            fields=lifecycle.AssetFields(**fields),
        )

    screen = item(
        screen_model,
        rooms[0],
        serial=SERIAL,
        supplier=SUPPLIER,
        mac=MAC,
        ip=IP,
        price_ht_cents=123456,
        price_ttc_cents=148147,
        purchase_date=date.today() - timedelta(days=100),
        warranty_end=date.today() + timedelta(days=600),
        order_number="CMD-77",
    )
    screen2 = item(screen_model, rooms[1], serial="SN-0002")
    laptop = item(laptop_model, rooms[0], serial="SN-0003")
    toks = tokens.active_tokens(
        db_session, asset_ids=[screen.id, screen2.id, laptop.id], classroom_ids=[rooms[0].id]
    )
    db_session.commit()
    types = {t.code: t.id for t in db_session.scalars(select(ProblemType))}
    return {
        "ecole": ecole,
        "coll": ecole.collectivite_id,
        "rooms": rooms,
        "screen": screen,
        "screen2": screen2,
        "laptop": laptop,
        "token": toks[("asset", screen.id)].token,
        "token2": toks[("asset", screen2.id)].token,
        "laptop_token": toks[("asset", laptop.id)].token,
        "room_token": toks[("classroom", rooms[0].id)].token,
        "types": types,
    }


def report(client, token, problem, description="Le stylet ne répond plus.", **extra):
    data = {"problem": str(problem), "description": description, **extra}
    return client.post(f"/q/{token}", data=data, content_type="multipart/form-data")


def fresh(db_session, model, ident):
    db_session.expire_all()
    return db_session.get(model, ident)


def count(db_session, model, *where) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def outbox(db_session) -> list[OutboxMessage]:
    db_session.expire_all()
    return list(db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def tiny_png() -> bytes:
    """A real 1×1 PNG, made here."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x91\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, as a reader would copy it."""
    pdf = pypdfium2.PdfDocument(data)
    parts = []
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            parts.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        pdf.close()
    return "\n".join(parts)


# -- API -----------------------------------------------------------------------------------
def api_token(app, email, scope="read", **fields) -> str:
    """A new API token of the account ``email``, made by its service; its secret."""
    from inventory.api import tokens
    from inventory.api.models import TokenScope
    from inventory.auth.models import User
    from inventory.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).filter_by(email=email))
        new = tokens.create_token(
            db.session,
            user,
            name=fields.pop("name", "script"),
            scope=TokenScope(scope),
            expires_at=fields.pop("expires_at", None),
            networks=fields.pop("networks", ""),
        )
        secret = new.secret
        db.session.remove()
    return secret


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}
