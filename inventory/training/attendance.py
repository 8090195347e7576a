"""The attendance sheet of a session, printed to be signed there (PDF)."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache
from importlib import resources
from xml.sax.saxutils import escape

from flask_babel import format_date, format_time
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from inventory.training.choices import FORMAT_LABELS, MODE_LABELS
from inventory.training.models import TrainingSession
from inventory.training.times import ends_at, local

FONT, FONT_BOLD = "SocleSans", "SocleSans-Bold"
BLANK_ROWS = 4


@cache
def _register_fonts() -> None:
    # Bitstream Vera ships with reportlab: embedded as a subset, with every accent of French.
    folder = resources.files("reportlab") / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "VeraBd.ttf")))


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=12, alignment=TA_LEFT)
    return {
        "base": base,
        "title": ParagraphStyle("title", base, fontName=FONT_BOLD, fontSize=16, leading=20),
        "subtitle": ParagraphStyle("subtitle", base, fontName=FONT_BOLD, fontSize=12, leading=15),
        "school": ParagraphStyle("school", base, fontName=FONT_BOLD, fontSize=11, leading=14),
        "head": ParagraphStyle("head", base, fontName=FONT_BOLD),
        "small": ParagraphStyle("small", base, fontSize=8, leading=10, textColor=colors.grey),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 1), (-1, -1), 9),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 9),
    ]
)


def attendance_sheet(ts: TrainingSession, locale: str) -> bytes:
    """A printable sheet: the session's facts, then per school one row per classroom (its
    levels, the teacher's name, a signature), then rows for other participants."""
    _register_fonts()
    st = _styles()
    out = io.BytesIO()
    width = A4[0] - 30 * mm
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"{_('Attendance sheet')} — {ts.title}",
        author="Socle",
    )
    start, end = local(ts.starts_at), local(ends_at(ts))
    when = _(
        "%(day)s, %(start)s to %(end)s",
        day=format_date(start.date(), "full"),
        start=format_time(start, "HH:mm"),
        end=format_time(end, "HH:mm"),
    )
    facts: list[tuple[str, str]] = [
        (_("Date"), when),
        (_("Format"), f"{FORMAT_LABELS[ts.format]}, {MODE_LABELS[ts.mode]}"),
    ]
    if ts.place:
        facts.append((_("Place"), ts.place))
    facts.append((_("Schools"), "; ".join(f"{e.name} ({e.uai})" for e in ts.schools)))
    if ts.trainers:
        facts.append((_("Trainers"), "; ".join(t.label for t in ts.trainers)))
    if ts.topics:
        facts.append((_("Topics"), "; ".join(t.label(locale) for t in ts.topics)))
    if ts.categories:
        facts.append((_("Equipment"), "; ".join(c.label(locale) for c in ts.categories)))
    story: list = [
        _p(_("Attendance sheet"), st["subtitle"]),
        _p(ts.title, st["title"]),
        Spacer(0, 3 * mm),
        Table(
            [[_p(k, st["head"]), _p(v, st["base"])] for k, v in facts],
            colWidths=[32 * mm, width - 32 * mm],
            style=TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ]
            ),
        ),
        Spacer(0, 5 * mm),
    ]
    cols = [26 * mm, 26 * mm, width - 26 * mm - 26 * mm - 50 * mm, 50 * mm]
    header = [
        _p(h, st["head"]) for h in (_("Classroom"), _("Levels"), _("Teacher"), _("Signature"))
    ]
    for ecole in ts.schools:
        rows = [header]
        for room in ecole.classrooms:
            rows.append(
                [_p(room.name, st["base"]), _p(", ".join(room.level_list), st["base"]), "", ""]
            )
        for _i in range(2):
            rows.append([_p(_("Direction"), st["small"]), "", "", ""])
        table = Table(rows, colWidths=cols, repeatRows=1, style=GRID)
        title = f"{ecole.name} — {ecole.uai} — {ecole.commune.name}"
        story += [
            KeepTogether([_p(title, st["school"]), Spacer(0, 2 * mm), table]),
            Spacer(0, 5 * mm),
        ]
    others = [[_p(h, st["head"]) for h in (_("Name"), _("Role or organisation"), _("Signature"))]]
    others += [["", "", ""] for _i in range(BLANK_ROWS)]
    story += [
        KeepTogether(
            [
                _p(_("Other participants (municipal staff, guests)"), st["school"]),
                Spacer(0, 2 * mm),
                Table(others, colWidths=[60 * mm, width - 110 * mm, 50 * mm], style=GRID),
            ]
        )
    ]
    footer = _footer(_("Socle — attendance sheet, session no. %(id)s", id=ts.id))
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _footer(text: str) -> Callable[[Canvas, SimpleDocTemplate], None]:
    def draw(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(15 * mm, 10 * mm, text)
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, str(doc.page))
        canvas.restoreState()

    return draw
