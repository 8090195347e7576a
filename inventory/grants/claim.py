"""The claim file ('dossier de demande de versement') for the académie: a PDF with the
dossier, its expenses, the items they paid for and the aid computation step by step; and
the expense lines as CSV/XLSX rows (written by :mod:`inventory.core.exporting`).

An invoice that the scheme's dates leave out (dated outside its spending window, or
undated) is claimed nowhere: neither listed nor counted in the PDF, nor in the rows; the
PDF only says how many invoices of the dossier it leaves out."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from inventory.assets.lifecycle import STATUS_LABELS as ASSET_STATUS_LABELS
from inventory.assets.works import WORK_KIND_LABELS, WORK_STATUS_LABELS
from inventory.core import exporting
from inventory.core.db import utcnow
from inventory.core.exporting import Cell
from inventory.grants.aid import SchemeRules
from inventory.grants.breakdown import DATE_STEPS, DossierSummary
from inventory.grants.common import money
from inventory.grants.dossiers import STATUS_LABELS
from inventory.grants.expenses import ineligible_expenses
from inventory.grants.models import Dossier
from inventory.grants.schemes import volets_of, window_text

FONT = "SocleVera"
FONT_BOLD = "SocleVera-Bold"


def _register_fonts() -> None:
    """Bitstream Vera ships with reportlab: embedded, it prints accents, '€' and '–'."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, "VeraBd.ttf"))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


def _text(value: Any) -> str:
    """Text for a Paragraph: escaped, with the narrow no-break space (absent from the font)
    as an ordinary no-break space."""
    return escape(str(value if value is not None else "")).replace("\u202f", "\u00a0")


def _day(value: date | None) -> str:
    return format_date(value, "short") if value else "—"


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=FONT, fontSize=9, leading=12)
    return {
        "title": ParagraphStyle(
            "title", parent=base["Title"], fontName=FONT_BOLD, fontSize=16, leading=20
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base["Heading2"],
            fontName=FONT_BOLD,
            fontSize=12,
            leading=15,
            keepWithNext=1,
        ),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10),
        "num": ParagraphStyle("num", parent=body, fontSize=8, leading=10, alignment=TA_RIGHT),
        "strong": ParagraphStyle("strong", parent=body, fontName=FONT_BOLD),
        "head": ParagraphStyle("head", parent=body, fontName=FONT_BOLD, fontSize=8, leading=10),
        "head_num": ParagraphStyle(
            "head_num", parent=body, fontName=FONT_BOLD, fontSize=8, leading=10, alignment=TA_RIGHT
        ),
        "step": ParagraphStyle("step", parent=body, leftIndent=10),
    }


def _table(rows: list[list[Any]], widths: Sequence[float], numeric: Sequence[int] = ()) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for col in numeric:
        style.append(("ALIGN", (col, 0), (col, -1), "RIGHT"))
    table.setStyle(TableStyle(style))
    return table


def claim_pdf(dossier: Dossier, summary: DossierSummary, items: list[dict[str, Any]]) -> bytes:
    """The claim file as A4 PDF bytes."""
    _register_fonts()
    s = _styles()
    rules = summary.rules or SchemeRules.from_data(dossier.rules)
    claimed = [e for e in dossier.expenses if e.id not in summary.ineligible]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=_("Claim for payment") + f" – {dossier.reference or dossier.title}",
        author=dossier.collectivite.name,
        subject=dossier.scheme.name,
        creator="Socle",
    )
    width = A4[0] - 30 * mm

    def p(text: Any, style: str = "cell") -> Paragraph:
        return Paragraph(_text(text), s[style])

    def lines(texts: Sequence[Any], style: str = "cell") -> Paragraph:
        return Paragraph("<br/>".join(_text(t) for t in texts), s[style])

    def heads(*titles: str, numeric: Sequence[int] = ()) -> list[Paragraph]:
        return [p(t, "head_num" if i in numeric else "head") for i, t in enumerate(titles)]

    story: list[Any] = [
        Paragraph(_text(_("Claim for payment")), s["title"]),
        Paragraph(_text(dossier.scheme.name), s["body"]),
        Spacer(0, 4 * mm),
    ]
    facts = [
        (_("Collectivité"), dossier.collectivite.name),
        (_("SIREN"), dossier.collectivite.siren or "—"),
        (_("Dossier"), dossier.title),
        (_("Reference"), dossier.reference or "—"),
        (_("Status"), str(STATUS_LABELS[dossier.status])),
        (_("Award decision on"), _day(dossier.decision_on)),
        (_("Convention signed on"), _day(dossier.convention_signed_on)),
        (_("Spending deadline"), _day(dossier.spending_deadline)),
        (_("Eligible spending (invoice dates)"), window_text(rules) or "—"),
        (_("Claim deadline"), _day(rules.claim_deadline)),
        (_("Maximum subsidy of the convention"), money(dossier.convention_max_cents) or "—"),
        (_("Rules applied"), _("version %(version)s", version=dossier.scheme_version)),
        (_("Printed on"), format_date(utcnow().date(), "long")),
    ]
    story.append(
        Table(
            [[p(k, "strong"), p(v, "body")] for k, v in facts],
            colWidths=[60 * mm, width - 60 * mm],
            style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
        )
    )
    if dossier.scheme.note:
        story += [Spacer(0, 2 * mm), p(dossier.scheme.note, "small")]

    # Figures.
    story.append(Paragraph(_text(_("Summary")), s["h2"]))
    basis = _("incl. VAT") if summary.vat_included else _("excl. VAT")
    figures = [
        (_("Spending claimed (excl. VAT)"), money(summary.claimed_ht_cents)),
        (_("Spending claimed (incl. VAT)"), money(summary.claimed_ttc_cents)),
        (_("Eligible spending (%(basis)s)", basis=basis), money(summary.eligible_cents)),
        (_("State aid"), money(summary.aid_cents)),
        (_("Already received"), money(summary.received_cents)),
        (_("Left to claim"), money(summary.left_to_claim_cents)),
    ]
    story.append(
        _table(
            [heads(_("Figure"), _("Amount"), numeric=(1,))]
            + [[p(k), p(v, "num")] for k, v in figures],
            [width - 45 * mm, 45 * mm],
        )
    )

    # Schools covered.
    story.append(Paragraph(_text(_("Schools covered")), s["h2"]))
    rows = [heads(_("UAI"), _("School"), _("Classes"), _("Pupils"), numeric=(2, 3))]
    rows += [
        [p(ds.ecole.uai), p(ds.ecole.name), p(ds.classes, "num"), p(ds.pupils, "num")]
        for ds in dossier.schools
    ]
    story.append(_table(rows, [25 * mm, width - 65 * mm, 20 * mm, 20 * mm]))

    # Expenses.
    labels = dict(volets_of(dossier.rules))
    story.append(Paragraph(_text(_("Expenses")), s["h2"]))
    rows = [
        heads(
            _("Invoice"),
            _("Date"),
            _("Supplier"),
            _("Volet"),
            _("Split by school (incl. VAT)"),
            _("Excl. VAT"),
            _("Incl. VAT"),
            numeric=(5, 6),
        )
    ]
    for e in claimed:
        rows.append(
            [
                p(e.invoice_number),
                p(_day(e.invoice_date)),
                lines([e.supplier, e.description] if e.description else [e.supplier]),
                p(labels.get(e.volet, e.volet)),
                lines([f"{a.ecole.name} – {money(a.amount_ttc_cents)}" for a in e.allocations]),
                p(money(e.amount_ht_cents), "num"),
                p(money(e.amount_ttc_cents), "num"),
            ]
        )
    rows.append(
        [
            p(_("Total"), "strong"),
            p(""),
            p(""),
            p(""),
            p(""),
            p(money(summary.claimed_ht_cents), "num"),
            p(money(summary.claimed_ttc_cents), "num"),
        ]
    )
    story.append(
        _table(rows, [25 * mm, 19 * mm, 32 * mm, 24 * mm, width - 148 * mm, 24 * mm, 24 * mm])
    )
    if summary.ineligible:
        left_out = len(summary.ineligible)
        story.append(
            p(
                ngettext(
                    "%(num)d invoice of the dossier is not claimed: its date lies outside the "
                    "scheme's eligible spending (%(window)s) or is missing.",
                    "%(num)d invoices of the dossier are not claimed: their dates lie outside "
                    "the scheme's eligible spending (%(window)s) or are missing.",
                    left_out,
                    window=window_text(rules),
                ),
                "small",
            )
        )

    # Items.
    story.append(Paragraph(_text(_("Items paid for")), s["h2"]))
    if items:
        rows = [
            heads(
                _("Invoice"),
                _("Item"),
                _("Serial number"),
                _("School"),
                _("Classroom"),
                _("Amount"),
                numeric=(5,),
            )
        ]
        for it in items:
            rows.append(
                [
                    p(it["expense"].invoice_number),
                    p(f"{it['label']} – {it['what']}"),
                    p(it["serial"] or "—"),
                    p(it["school"] or "—"),
                    p(it["classroom"] or "—"),
                    p(money(it["amount_cents"]), "num"),
                ]
            )
        story.append(_table(rows, [25 * mm, width - 149 * mm, 32 * mm, 45 * mm, 23 * mm, 24 * mm]))
    else:
        story.append(p(_("No item is linked to these invoices."), "body"))

    # Computation.
    block: list[Any] = [Paragraph(_text(_("Computation of the state aid")), s["h2"])]
    for line in summary.lines:
        if line.kind in DATE_STEPS:  # an invoice the claim leaves out (said above)
            continue
        if line.kind == "heading" or line.emphasis:
            block.append(Paragraph(_text(line.text), s["strong"]))
        else:
            block.append(Paragraph(_text(line.text), s["step"]))
    if not summary.lines:
        block.append(p(_("No spending recorded yet."), "body"))
    story.append(KeepTogether(block[:3]))
    story += block[3:]
    story += [
        Spacer(0, 8 * mm),
        KeepTogether(
            [
                p(
                    _(
                        "Certified accurate by the authorising officer of %(name)s, "
                        "on ............................",
                        name=dossier.collectivite.name,
                    ),
                    "body",
                ),
                Spacer(0, 3 * mm),
                p(_("Signature and stamp:"), "body"),
                Spacer(0, 25 * mm),
            ]
        ),
    ]
    if dossier.scheme.funding_mention:
        story += [p(dossier.scheme.funding_mention, "small")]

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(
            15 * mm,
            8 * mm,
            f"{dossier.collectivite.name} – {dossier.reference or dossier.title}",
        )
        canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, str(document.page))
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _euros(cents: int | None) -> Decimal | None:
    return exporting.money(cents)


def _item_name(link: Any) -> str:
    if link.asset is not None:
        serial = f" ({link.asset.serial})" if link.asset.serial else ""
        return link.asset.tag + serial
    return link.work.title if link.work is not None else ""


def expense_table(dossier: Dossier) -> tuple[list[str], Iterator[Sequence[Cell]]]:
    """One row per expense the claim counts and school it is allocated to."""
    labels = dict(volets_of(dossier.rules))
    left_out = ineligible_expenses(dossier)
    headers = [
        _("Dossier"),
        _("Invoice"),
        _("Invoice date"),
        _("Supplier"),
        _("Description"),
        _("Volet"),
        _("Invoice excl. VAT"),
        _("Invoice incl. VAT"),
        _("UAI"),
        _("School"),
        _("Share excl. VAT"),
        _("Share incl. VAT"),
        _("Items linked"),
    ]

    def rows() -> Iterator[Sequence[Cell]]:
        for e in dossier.expenses:
            if e.id in left_out:
                continue
            for a in e.allocations:
                linked = [
                    link
                    for link in e.links
                    if (link.asset is not None and link.asset.ecole_id == a.ecole_id)
                    or (link.work is not None and link.work.ecole_id == a.ecole_id)
                    or (len(e.allocations) == 1)
                ]
                yield [
                    dossier.reference or dossier.title,
                    e.invoice_number,
                    e.invoice_date,
                    e.supplier,
                    e.description or "",
                    labels.get(e.volet, e.volet),
                    _euros(e.amount_ht_cents),
                    _euros(e.amount_ttc_cents),
                    a.ecole.uai,
                    a.ecole.name,
                    _euros(a.amount_ht_cents),
                    _euros(a.amount_ttc_cents),
                    ", ".join(_item_name(link) for link in linked),
                ]

    return headers, rows()


def item_rows(dossier: Dossier, *, claimed_only: bool = False) -> list[dict[str, Any]]:
    """Every linked item of the dossier's expenses with what identifies it on site; with
    ``claimed_only``, of the expenses the claim counts (not those its dates leave out)."""
    rows = []
    left_out = ineligible_expenses(dossier) if claimed_only else {}
    for e in dossier.expenses:
        if e.id in left_out:
            continue
        for link in e.links:
            if link.asset is not None:
                a = link.asset
                rows.append(
                    {
                        "expense": e,
                        "kind": "asset",
                        "label": a.tag,
                        "what": f"{a.category.name_fr} – {a.model.full_name}",
                        "serial": a.serial or "",
                        "school": a.ecole.name if a.ecole else "",
                        "classroom": a.classroom.name if a.classroom else "",
                        "status": str(ASSET_STATUS_LABELS[a.status]),
                        "amount_cents": link.amount_cents,
                    }
                )
            elif link.work is not None:
                w = link.work
                rows.append(
                    {
                        "expense": e,
                        "kind": "work",
                        "label": w.title,
                        "what": str(WORK_KIND_LABELS[w.kind]),
                        "serial": "",
                        "school": w.ecole.name,
                        "classroom": ", ".join(r.name for r in w.classrooms),
                        "status": str(WORK_STATUS_LABELS[w.status]),
                        "amount_cents": link.amount_cents,
                    }
                )
    return rows


def item_table(dossier: Dossier) -> tuple[list[str], Iterator[Sequence[Cell]]]:
    """One row per item linked to an expense the claim counts."""
    headers = [
        _("Invoice"),
        _("Item"),
        _("Description"),
        _("Serial number"),
        _("School"),
        _("Classroom"),
        _("Status"),
        _("Amount"),
    ]

    def rows() -> Iterator[Sequence[Cell]]:
        for it in item_rows(dossier, claimed_only=True):
            yield [
                it["expense"].invoice_number,
                it["label"],
                it["what"],
                it["serial"],
                it["school"],
                it["classroom"],
                it["status"],
                _euros(it["amount_cents"]),
            ]

    return headers, rows()
