"""The one label renderer: any list of labels on any format, QR codes drawn as vectors."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw  # Pillow comes with reportlab
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONT, FONT_BOLD = "SocleSans", "SocleSans-Bold"
MIN_SIZE = 4.5  # points: below this a label is unreadable
LEADING = 1.15
# The European flag's colours (Reflex Blue and Yellow of the EU's graphic guide, in RGB).
EU_BLUE = (0 / 255, 51 / 255, 153 / 255)
EU_GOLD = (255 / 255, 204 / 255, 0 / 255)
FRANCE_RELANCE = "France Relance"


@cache
def _register_fonts() -> None:
    # Bitstream Vera ships with reportlab: a TrueType font embedded as a subset, so that
    # any character it has prints the same everywhere.
    folder = resources.files("reportlab") / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "VeraBd.ttf")))


@dataclass(frozen=True)
class Sheet:
    """Geometry of a label format, in millimetres (see ``LabelFormat``)."""

    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    margin_left: float = 0
    margin_top: float = 0
    gap_x: float = 0
    gap_y: float = 0
    padding: float = 1.5
    continuous: bool = False
    layout: str = "side"

    @classmethod
    def of(cls, fmt: object) -> Sheet:
        return cls(**{f: getattr(fmt, f) for f in cls.__dataclass_fields__})

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def origin(self, slot: int) -> tuple[float, float]:
        """Bottom-left corner (mm, PDF coordinates) of the label at ``slot`` on a page."""
        col, row = slot % self.columns, slot // self.columns
        x = self.margin_left + col * (self.label_width + self.gap_x)
        top = self.margin_top + row * (self.label_height + self.gap_y)
        return x, self.page_height - top - self.label_height


@dataclass(frozen=True)
class Label:
    matrix: Sequence[Sequence[bool]]
    title: str
    lines: tuple[str, ...] = ()
    mention: str | None = None
    # The EU emblem beside the mention, and a "France Relance" line, when the scheme asks.
    emblem: bool = False
    france_relance: bool = False
    # A short invitation to scan ("Un problème ? Scannez-moi"), the collectivité's.
    prompt: str | None = None


def fit_text(
    text: str, font: str, width_pt: float, size: float, max_lines: int = 1
) -> tuple[list[str], float]:
    """Shrink, then wrap, ``text`` into ``width_pt``. If it still does not fit at the
    smallest size, the last line ends with a visible '…': never a silent cut."""
    text = " ".join(text.split())
    width = pdfmetrics.stringWidth
    while size >= MIN_SIZE:
        if width(text, font, size) <= width_pt:
            return [text], size
        if max_lines > 1:
            lines = _wrap(text, font, size, width_pt, max_lines)
            if lines is not None:
                return lines, size
        size -= 0.5
    size = MIN_SIZE
    lines = _wrap(text, font, size, width_pt, max_lines, force=True) or [text]
    last = lines[-1]
    while last and width(last + "…", font, size) > width_pt:
        last = last[:-1]
    lines[-1] = last + "…"
    return lines, size


def _wrap(
    text: str, font: str, size: float, width_pt: float, max_lines: int, force: bool = False
) -> list[str] | None:
    words, lines, current = text.split(" "), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if pdfmetrics.stringWidth(candidate, font, size) <= width_pt:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        if pdfmetrics.stringWidth(word, font, size) > width_pt and not force:
            return None
    lines.append(current)
    if len(lines) > max_lines:
        if not force:
            return None
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return lines


def qr_operators(matrix: Sequence[Sequence[bool]]) -> str:
    """PDF path operators for the dark modules, in module units, adjacent modules of a
    row merged into one rectangle. Computed once per label and placed with a transform."""
    n = len(matrix)
    ops = []
    for r, row in enumerate(matrix):
        y = n - r - 1
        start = None
        for col in range(n + 1):
            dark = col < n and row[col]
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                ops.append(f"{start} {y} {col - start} 1 re")
                start = None
    return "\n".join(ops)


def _draw_qr(c: Canvas, matrix: Sequence[Sequence[bool]], x: float, y: float, size: float) -> None:
    """The code as vector rectangles: one filled path, scaled from module units."""
    module = size / len(matrix)
    c.addLiteral(
        f"q 0 g {module:.4f} 0 0 {module:.4f} {x:.3f} {y:.3f} cm\n{qr_operators(matrix)}\nf Q"
    )


def draw_eu_flag(c: Canvas, x: float, y: float, height: float) -> None:
    """The European flag as vectors, bottom-left at (x, y): a blue rectangle of 3:2 and a
    circle of twelve gold five-pointed stars, in the proportions of its official
    description (circle radius a third of the height, each star's points on a circle of
    an eighteenth, one point upwards, the stars placed as the hours of a clock face)."""
    width = height * 1.5
    cx, cy = x + width / 2, y + height / 2
    ring, outer = height / 3, height / 18
    inner = outer * math.sin(math.radians(18)) / math.sin(math.radians(54))
    c.saveState()
    c.setFillColorRGB(*EU_BLUE)
    c.rect(x, y, width, height, stroke=0, fill=1)
    c.setFillColorRGB(*EU_GOLD)
    for hour in range(12):
        angle = math.radians(90 - 30 * hour)
        sx, sy = cx + ring * math.cos(angle), cy + ring * math.sin(angle)
        star = c.beginPath()
        for k in range(10):
            r = outer if k % 2 == 0 else inner
            a = math.radians(90 + 36 * k)
            px, py = sx + r * math.cos(a), sy + r * math.sin(a)
            if k == 0:
                star.moveTo(px, py)
            else:
                star.lineTo(px, py)
        star.close()
        c.drawPath(star, stroke=0, fill=1)
    c.restoreState()


Line = tuple[str, str, float]  # font, text, size


def _fits(text: str, font: str, width: float, size: float, max_lines: int) -> list[Line] | None:
    """``text`` wrapped into ``width``, or None when it would have to be cut."""
    lines, s = fit_text(text, font, width, size, max_lines=max_lines)
    if lines[-1].endswith("…") and not text.rstrip().endswith("…"):
        return None
    return [(font, t, s) for t in lines]


def _wrapped(text: str, font: str, width: float, size: float, max_lines: int) -> list[Line]:
    lines, s = fit_text(text, font, width, size, max_lines=max_lines)
    return [(font, t, s) for t in lines]


def _height(lines: Sequence[Line]) -> float:
    return sum(s * LEADING for _, _, s in lines)


def _draw_lines(c: Canvas, x: float, top: float, lines: Sequence[Line]) -> float:
    """Draw ``lines`` downwards from ``top``; returns where they end."""
    y = top
    for font, text, s in lines:
        y -= s * LEADING
        c.setFont(font, s)
        c.drawString(x, y + s * 0.2, text)
    return y


@dataclass
class _Block:
    """The bottom of a label's text column: the prompt, then the emblem row (the flag,
    "France Relance" and the mention beside it when it fits), then the mention lines."""

    prompt: list[Line]
    flag: float  # the flag's height, 0 for none
    beside: list[Line]  # lines right of the flag
    below: list[Line]

    @property
    def row(self) -> float:
        return max(self.flag, _height(self.beside))

    @property
    def height(self) -> float:
        return _height(self.prompt) + self.row + _height(self.below)


def _bottom_block(label: Label, width: float, height: float, compact: bool) -> _Block:
    size = 5.5 if not compact else 5
    prompt = (
        _wrapped(label.prompt, FONT_BOLD, width, 6.5 if not compact else 5.5, 2)
        if label.prompt
        else []
    )
    head = [(FONT_BOLD, FRANCE_RELANCE, size)] if label.france_relance else []
    text = label.mention or ""
    if not label.emblem:
        below = head + (_wrapped(text, FONT, width, size, 3) if text else [])
        return _Block(prompt, 0, [], below)
    # The flag scales with the label, and stays legible (its stars) on the smallest.
    flag = min(max(height * 0.16, 2.6 * mm), 5 * mm)
    gap = 0.8 * mm
    side = width - flag * 1.5 - gap
    beside = None
    if side >= 10 * mm:
        lines = (head + (_fits(text, FONT, side, size, 2) or [])) if text else head
        if _height(lines) <= flag * 1.6 and (not text or len(lines) > len(head)):
            beside = lines
    if beside is not None:
        return _Block(prompt, flag, beside, [])
    # Too narrow beside the flag: "France Relance" beside it (wrapped if it must), the
    # mention under both.
    below = _wrapped(text, FONT, width, size, 3) if text else []
    if head and side >= 6 * mm:
        return _Block(prompt, flag, _wrapped(FRANCE_RELANCE, FONT_BOLD, side, size, 2), below)
    return _Block(prompt, flag, [], head + below)


def _draw_label(c: Canvas, sheet: Sheet, label: Label, x0: float, y0: float) -> None:
    pad = sheet.padding * mm
    w, h = sheet.label_width * mm, sheet.label_height * mm
    quiet = 1.2 * mm  # white margin the scanner needs around the code
    qr = min(h - 2 * pad, w * 0.5)
    _draw_qr(c, label.matrix, x0 + pad, y0 + (h - qr) / 2, qr)
    # Everything else lies right of the code and its quiet zone: it never covers the code.
    tx = x0 + pad + qr + quiet
    tw = w - (tx - x0) - pad
    if tw < 8 * mm:
        return
    compact = sheet.layout == "compact"
    top = y0 + h - pad
    lines: list[Line] = []
    title, size = fit_text(label.title, FONT_BOLD, tw, 9 if not compact else 7)
    lines += [(FONT_BOLD, t, size) for t in title]
    body_size = 6.5 if not compact else 5
    for text in label.lines:
        if text:
            wrapped, s = fit_text(text, FONT, tw, body_size, max_lines=2)
            lines += [(FONT, t, s) for t in wrapped]
    block = _bottom_block(label, tw, h - 2 * pad, compact)
    # The title stays; below it, the body's lines that fit above the bottom block are kept
    # whole, the rest dropped. Should the block not leave room for the title, the prompt
    # goes first.
    room = h - 2 * pad - _height(lines[:1])
    if block.height > room:
        block.prompt = []
    budget = h - 2 * pad - block.height
    used, kept = 0.0, []
    for font, text, s in lines:
        if used + s * LEADING > budget:
            break
        kept.append((font, text, s))
        used += s * LEADING
    _draw_lines(c, tx, top, kept)
    y = _draw_lines(c, tx, y0 + pad + block.height, block.prompt)
    if block.flag:
        row = block.row
        draw_eu_flag(c, tx, y - (row + block.flag) / 2, block.flag)
        beside_x = tx + block.flag * 1.5 + 0.8 * mm
        _draw_lines(c, beside_x, y - (row - _height(block.beside)) / 2, block.beside)
        y -= row
    else:
        y = _draw_lines(c, tx, y, block.beside)
    _draw_lines(c, tx, y, block.below)


def render_pdf(
    sheet: Sheet,
    labels: Iterable[Label],
    *,
    skip: int = 0,
    outline: bool = False,
    title: str = "Socle",
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """Place ``labels`` on ``sheet`` pages, starting after ``skip`` used positions."""
    _register_fonts()
    out = io.BytesIO()
    c = Canvas(
        out,
        pagesize=(sheet.page_width * mm, sheet.page_height * mm),
        pageCompression=1,
        invariant=1,
    )
    c.setTitle(title)
    c.setCreator("Socle")
    slot = skip % sheet.per_page if not sheet.continuous else 0
    drawn_on_page = False
    for count, label in enumerate(labels):
        if slot >= sheet.per_page:
            c.showPage()
            slot, drawn_on_page = 0, False
            if progress:
                progress(count)
        x, y = sheet.origin(slot)
        if outline:
            c.setLineWidth(0.1)
            c.rect(x * mm, y * mm, sheet.label_width * mm, sheet.label_height * mm)
        _draw_label(c, sheet, label, x * mm, y * mm)
        drawn_on_page = True
        slot += 1
    if drawn_on_page or c.getPageNumber() == 1:
        c.showPage()
    c.save()
    return out.getvalue()


def render_svg(label: Label, size_mm: float = 30) -> str:
    """One QR code with its tag as an SVG, for a single label on another tool."""
    n = len(label.matrix)
    quiet = 4
    cells = []
    for r, row in enumerate(label.matrix):
        start = None
        for col in range(n + 1):
            dark = col < n and row[col]
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                cells.append(f"M{start + quiet} {r + quiet}h{col - start}v1h-{col - start}z")
                start = None
    total = n + 2 * quiet
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_mm}mm" '
        f'height="{size_mm * (total + 6) / total:.2f}mm" viewBox="0 0 {total} {total + 6}">'
        f'<rect width="{total}" height="{total + 6}" fill="#fff"/>'
        f'<path d="{"".join(cells)}" fill="#000"/>'
        f'<text x="{total / 2}" y="{total + 3.5}" font-family="sans-serif" font-size="3.2" '
        f'text-anchor="middle">{escape(label.title)}</text></svg>'
    )


def render_png(label: Label, scale: int = 8) -> bytes:
    """One QR code as a PNG (with the quiet zone), drawn from the same matrix."""
    n, quiet = len(label.matrix), 4
    image = Image.new("1", ((n + 2 * quiet) * scale,) * 2, 1)
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(label.matrix):
        for col, dark in enumerate(row):
            if dark:
                x, y = (col + quiet) * scale, (r + quiet) * scale
                draw.rectangle((x, y, x + scale - 1, y + scale - 1), fill=0)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
