"""Label test helpers: a grant that paid for some items, and what a printed page holds."""

from __future__ import annotations

from datetime import date

import pypdfium2
import pypdfium2.raw as pdfium_c
from sqlalchemy import select

from inventory.grants.dossiers import (
    DossierFields,
    SchoolCover,
    change_dossier_status,
    create_dossier,
)
from inventory.grants.expenses import ExpenseFields, add_expense
from inventory.grants.links import LinkInput
from inventory.grants.models import DossierStatus, FundingScheme
from inventory.grants.schemes import install_presets
from tests.factories import ADMIN

MM = 72 / 25.4


def fund_assets(db_session, ecole, assets, scheme_code="snee-2021"):
    """A signed dossier of ``ecole`` under a shipped scheme, whose invoice paid for
    ``assets``; returns the scheme."""
    install_presets(db_session)
    scheme = db_session.scalar(select(FundingScheme).filter_by(code=scheme_code))
    dossier = create_dossier(
        db_session,
        ADMIN,
        collectivite=ecole.collectivite,
        scheme=scheme,
        fields=DossierFields(title=f"Socle {ecole.name}", convention_max_cents=10**6),
        schools=[SchoolCover(ecole.id, classes=3, pupils=60)],
    )
    for status in ("submitted", "approved", "signed"):
        change_dossier_status(db_session, ADMIN, dossier, DossierStatus(status))
    add_expense(
        db_session,
        ADMIN,
        dossier,
        ExpenseFields(
            "equipement", "Speechi", "F-1", 500_000, 600_000, invoice_date=date(2021, 10, 4)
        ),
        links=[LinkInput("asset", a.id, 100_000) for a in assets],
    )
    return scheme


def filled_paths(pdf: bytes, page_index=0):
    """(fill colour as 0-255 RGB, bounds in points) of every filled path on a page."""
    doc = pypdfium2.PdfDocument(pdf)
    page = doc[page_index]
    out = []
    for obj in page.get_objects():
        if obj.type != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        fill, stroke = pdfium_c.c_int(), pdfium_c.c_int()
        pdfium_c.FPDFPath_GetDrawMode(obj.raw, fill, stroke)
        if not fill.value:
            continue
        r, g, b, a = (pdfium_c.c_uint() for _ in range(4))
        pdfium_c.FPDFPageObj_GetFillColor(obj.raw, r, g, b, a)
        out.append(((r.value, g.value, b.value), obj.get_bounds()))
    page.close()
    doc.close()
    return out


def text_bounds(pdf: bytes, page_index=0):
    """Bounds (points) of every text object on a page."""
    doc = pypdfium2.PdfDocument(pdf)
    page = doc[page_index]
    out = [o.get_bounds() for o in page.get_objects() if o.type == pdfium_c.FPDF_PAGEOBJ_TEXT]
    page.close()
    doc.close()
    return out


def overlaps(a, b, tolerance=0.1):
    """Whether two (left, bottom, right, top) boxes share more than a hairline."""
    return (
        a[0] < b[2] - tolerance
        and b[0] < a[2] - tolerance
        and a[1] < b[3] - tolerance
        and b[1] < a[3] - tolerance
    )
