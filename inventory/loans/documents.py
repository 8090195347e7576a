"""The loan agreement (convention de prêt) and the return receipt, as PDF, in French by
default: the collectivité, the school, the device and its tag, its condition, the dates,
the conditions text the collectivité wrote, and the signature blocks."""

from __future__ import annotations

import io
from functools import cache
from importlib import resources
from xml.sax.saxutils import escape

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.core import policy
from inventory.core.errors import ConflictError
from inventory.core.policy import Action, Subject
from inventory.core.versioning import check_version, conflicts_as
from inventory.loans.models import BorrowerKind, Loan, LoanTerms
from inventory.loans.rules import BORROWER_LABELS, CONDITION_LABELS, LoanError
from inventory.orgs.models import Collectivite

FONT, FONT_BOLD = "SocleLoans", "SocleLoans-Bold"


@cache
def _fonts() -> None:
    # Bitstream Vera ships with reportlab: every accent of French, embedded as a subset.
    folder = resources.files("reportlab") / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "VeraBd.ttf")))


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=10, leading=13)
    return {
        "base": base,
        "title": ParagraphStyle("title", base, fontName=FONT_BOLD, fontSize=16, leading=20),
        "head": ParagraphStyle("head", base, fontName=FONT_BOLD, fontSize=11, leading=15),
    }


def terms_text(session: Session, collectivite_id: int) -> str:
    """The collectivité's conditions, or the default ones."""
    terms = session.scalar(select(LoanTerms).where(LoanTerms.collectivite_id == collectivite_id))
    return terms.text if terms is not None else default_terms()


def default_terms() -> str:
    return _(
        "The device remains the property of the collectivité. It is lent for school work "
        "only. The borrower takes care of it, does not lend it to anyone else, and brings "
        "it back on the date agreed, with its charger, in the condition it was lent in. "
        "Any damage, loss or theft is reported to the school at once."
    )


def _borrower_lines(loan: Loan) -> list[tuple[str, str]]:
    kind = str(BORROWER_LABELS[loan.borrower_kind])
    if loan.borrower_kind is BorrowerKind.CLASSROOM:
        return [(_("Borrower"), f"{kind} — {loan.classroom.name if loan.classroom else ''}")]
    if loan.borrower_kind is BorrowerKind.STAFF:
        return [(_("Borrower"), f"{kind} — {loan.staff_name or ''}")]
    if loan.purged_at is not None:
        return [(_("Borrower"), _("%(kind)s (data erased)", kind=kind))]
    return [
        (_("Pupil"), f"{loan.pupil_first_name or ''} ({loan.pupil_class or ''})"),
        (_("Guardian"), loan.guardian_name or ""),
        (_("Contact"), loan.guardian_contact or ""),
    ]


def _facts(loan: Loan, rows: list[tuple[str, str]]) -> Table:
    st = _styles()
    table = Table(
        [[Paragraph(escape(k), st["head"]), Paragraph(escape(v), st["base"])] for k, v in rows],
        colWidths=[50 * mm, 120 * mm],
    )
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _signatures(left: str, right: str) -> Table:
    st = _styles()
    table = Table(
        [
            [Paragraph(escape(left), st["head"]), Paragraph(escape(right), st["head"])],
            [Paragraph(escape(_("Date and signature")), st["base"])] * 2,
            ["", ""],
        ],
        colWidths=[85 * mm, 85 * mm],
        rowHeights=[None, None, 28 * mm],
    )
    table.setStyle(
        TableStyle([("BOX", (0, 0), (0, -1), 0.5, "black"), ("BOX", (1, 0), (1, -1), 0.5, "black")])
    )
    return table


def _device(loan: Loan) -> list[tuple[str, str]]:
    asset = loan.asset
    model = f"{asset.model.manufacturer.name} {asset.model.name}"
    return [
        (_("Device"), model),
        (_("Asset tag"), asset.tag),
        (_("Serial number"), asset.serial or "—"),
    ]


def _render(story: list[Flowable]) -> bytes:
    _fonts()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=_("Loan agreement"),
        author="Socle",
    )
    doc.build(story)
    return out.getvalue()


def agreement_pdf(loan: Loan, conditions: str) -> bytes:
    """The loan agreement of ``loan``, to be signed by both sides."""
    _fonts()
    st = _styles()
    rows = [
        (_("Collectivité"), loan.collectivite.name),
        (_("School"), f"{loan.ecole.name} ({loan.ecole.uai})"),
        *_device(loan),
        (_("Condition at the loan"), str(CONDITION_LABELS[loan.condition_out])),
        (_("Lent on"), format_date(loan.starts_on, "long")),
        (_("To be returned by"), format_date(loan.due_on, "long")),
        *_borrower_lines(loan),
    ]
    story: list[Flowable] = [
        Paragraph(escape(_("Loan agreement")), st["title"]),
        Paragraph(escape(_("Agreement no. %(id)s", id=loan.id)), st["base"]),
        Spacer(1, 6 * mm),
        _facts(loan, rows),
        Spacer(1, 6 * mm),
        Paragraph(escape(_("Conditions of the loan")), st["head"]),
    ]
    story += [Paragraph(escape(p), st["base"]) for p in conditions.splitlines() if p.strip()]
    story += [
        Spacer(1, 10 * mm),
        _signatures(
            _("For the collectivité (the school's director)"),
            _("The borrower (or the pupil's guardian)"),
        ),
    ]
    return _render(story)


def receipt_pdf(loan: Loan) -> bytes:
    """The receipt of ``loan``'s return, with the condition the item came back in."""
    _fonts()
    st = _styles()
    condition = CONDITION_LABELS[loan.condition_in] if loan.condition_in else "—"
    rows = [
        (_("Collectivité"), loan.collectivite.name),
        (_("School"), f"{loan.ecole.name} ({loan.ecole.uai})"),
        *_device(loan),
        (_("Lent on"), format_date(loan.starts_on, "long")),
        (_("Returned on"), format_date(loan.returned_on, "long") if loan.returned_on else "—"),
        (_("Condition at the return"), str(condition)),
        (_("Notes"), loan.return_notes or "—"),
        *_borrower_lines(loan),
    ]
    story: list[Flowable] = [
        Paragraph(escape(_("Return receipt")), st["title"]),
        Paragraph(escape(_("Loan agreement no. %(id)s", id=loan.id)), st["base"]),
        Spacer(1, 6 * mm),
        _facts(loan, rows),
        Spacer(1, 10 * mm),
        _signatures(_("Received by the school"), _("Returned by")),
    ]
    return _render(story)


def save_terms(
    session: Session, user: Subject, collectivite: Collectivite, text: str, version: int | None
) -> LoanTerms:
    """The collectivité's own conditions for its agreements (managers and administrators)."""
    if not policy.can(user, Action.EDIT, collectivite, session):
        raise policy.Denied()
    text = (text or "").strip()
    if not text:
        raise LoanError(_l("Write the conditions of the loan."), field="text")
    terms = session.scalar(select(LoanTerms).where(LoanTerms.collectivite_id == collectivite.id))
    if terms is None:
        terms = LoanTerms(collectivite_id=collectivite.id, text=text)
        session.add(terms)
    else:
        with conflicts_as(session, terms_conflict):
            check_version(terms, version, terms_conflict())
            terms.text = text
    with conflicts_as(session, terms_conflict):
        session.commit()
    return terms


def terms_of(session: Session, collectivite_id: int) -> LoanTerms | None:
    return session.scalar(select(LoanTerms).where(LoanTerms.collectivite_id == collectivite_id))


def terms_conflict() -> ConflictError:
    return ConflictError(
        _l("Someone else saved these conditions at the same moment. Reload them and try again.")
    )
