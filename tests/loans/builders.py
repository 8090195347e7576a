"""Builders shared by the loans tests, the access matrix and the loans journey: a school's
classe mobile (a cart and its tablets) made through the services."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta

from sqlalchemy import select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import Asset, AssetStatus
from inventory.loans.kits import create_kit
from inventory.loans.models import Kit
from inventory.orgs.models import Classroom, Ecole
from tests.factories import ADMIN

# An elementary school of Créteil (collectivité Créteil), and one of Fresnes.
CRETEIL, FRESNES = "0941127P", "0940176F"


def next_weekday(weekday: int, weeks: int = 1) -> date:
    """The ``weekday`` (0 Monday) of the week ``weeks`` from now."""
    today = date.today()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)
    return monday + timedelta(days=weekday)


def item(db_session, ecole: Ecole, category: str = "tablette", name: str | None = None) -> Asset:
    room = db_session.scalar(
        select(Classroom).where(Classroom.ecole_id == ecole.id).order_by(Classroom.id).limit(1)
    )
    cat = catalogue.category_by_code(db_session, category)
    model = catalogue.get_or_create_model(db_session, "Apple", name or f"Modèle {category}", cat)
    where = lifecycle.Where(ecole.collectivite, ecole, room)
    return lifecycle.create_asset(
        db_session, ADMIN, where=where, model=model, status=AssetStatus.IN_SERVICE
    )


def classe_mobile(
    db_session, ecole_id: int, tablets: int = 3, name: str = "Classe mobile 1"
) -> Kit:
    """A kit of ``tablets`` tablets in service at the school."""
    ecole = db_session.get(Ecole, ecole_id)
    ids = [item(db_session, ecole).id for _ in range(tablets)]
    return create_kit(db_session, ADMIN, ecole, name, ids)


def pdftotext(data: bytes) -> str:
    """The text of a PDF as poppler's pdftotext reads it (what a reader copies)."""
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return done.stdout.decode()
