"""The demo's end of life: the town's old projectors of 2014, whose model reached its
expected end of life, collected from its storage by an eco-organism (a DEEE batch with
its certificate), and two laptops given to an association."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from sqlalchemy.orm import Session

from inventory.assets import disposal
from inventory.assets.catalogue import category_by_code, get_or_create_model
from inventory.assets.lifecycle import AssetFields, Where, create_asset
from inventory.assets.models import AssetStatus, DisposalRoute, EquipmentModel
from inventory.auth.models import User
from inventory.core import audit
from inventory.orgs.models import Collectivite
from inventory.web import upload_dir

from .clock import on

COLLECTED = date(2024, 6, 18)
GIVEN = date(2024, 9, 2)
OLD_PROJECTORS = 4
OLD_LAPTOPS = 2


def _model(session: Session, code: str, maker: str, name: str) -> EquipmentModel:
    category = category_by_code(session, code)
    assert category is not None, f"no category {code}"
    return get_or_create_model(session, maker, name, category)


def _certificate(town: str, reference: str, count: int) -> bytes:
    """A one-page collection certificate, as an eco-organism sends one."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.setFont("Helvetica-Bold", 16)
    page.drawString(72, 770, "Certificat de prise en charge DEEE")
    page.setFont("Helvetica", 11)
    for n, line in enumerate(
        (
            "Éco-organisme : Ecosystem (démonstration)",
            f"Détenteur : {town}",
            f"Référence de l'enlèvement : {reference}",
            f"Date de l'enlèvement : {COLLECTED.strftime('%d/%m/%Y')}",
            f"Équipements : {count} vidéoprojecteurs (catégorie 6, petits équipements)",
        )
    ):
        page.drawString(72, 730 - 20 * n, line)
    page.showPage()
    page.save()
    return out.getvalue()


def load_disposals(session: Session, user: User, admin: User, town: Collectivite) -> Iterator[str]:
    """``user`` (a technician) retires the items; ``admin`` dates the model's end of life."""
    folder = upload_dir("assets").folder(disposal.CERTIFICATE_AREA)
    with on(date(2014, 9, 1)):
        projector = _model(session, "vp", "Epson", "EB-X14")
        laptop = _model(session, "poste_enseignant", "HP", "ProBook 450 G1")
        old = [
            create_asset(
                session,
                user,
                where=Where(town),
                model=model,
                status=AssetStatus.IN_SERVICE,
                fields=AssetFields(purchase_date=date(2014, 8, 25), price_ht_cents=55_000),
                commit=False,
            )
            for model in [projector] * OLD_PROJECTORS + [laptop] * OLD_LAPTOPS
        ]
        session.commit()
    with audit.acting_as(audit.Actor(admin.id, admin.name)):
        disposal.set_model_end_of_life(session, admin, projector, date(2022, 12, 31))
    reference = "ECO-2024-0618-094"
    with on(COLLECTED, 14):
        collected = disposal.retire_batch(
            session,
            user,
            [a.id for a in old[:OLD_PROJECTORS]],
            disposal.DisposalFields(
                DisposalRoute.DEEE, COLLECTED, "Ecosystem", reference, "Enlèvement au dépôt."
            ),
            certificate=_certificate(town.name, reference, OLD_PROJECTORS),
            directory=folder,
            today=COLLECTED,
        )
    with on(GIVEN, 10):
        given = disposal.retire_batch(
            session,
            user,
            [a.id for a in old[OLD_PROJECTORS:]],
            disposal.DisposalFields(
                DisposalRoute.DONATION, GIVEN, "Association Emmaüs Connect", None, None
            ),
            certificate=None,
            directory=folder,
            today=GIVEN,
        )
    yield (
        f"End of life: {len(collected.done)} projectors collected by Ecosystem "
        f"(certificate {reference}), {len(given.done)} laptops given"
    )
