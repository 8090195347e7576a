"""The evidence pack of a collectivité or of a dossier: a ZIP for an audit.

It holds a PDF summary (``synthese.pdf``), the equipment with serials and classrooms
(``equipements.csv``), the invoices' metadata (``factures.csv``), the training sessions
(``formations.csv``) and the change-log extract (``journal.csv``). Every file is read
through the policy, and the CSV files go through the common exporter (cells a spreadsheet
would run as formulas are neutralised).

A pack is made by a job (:func:`queue_pack`, ``reports.tasks``): the user follows it on its
progress page and downloads the ZIP from the file store, where it is kept
``EVIDENCE_FILES_RETENTION_DAYS`` days.
"""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask_babel import format_decimal
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import Asset, EquipmentModel
from inventory.core import exporting, jobs, policy
from inventory.core.audit import AuditRecord
from inventory.core.db import utcnow
from inventory.core.describe import readable
from inventory.core.jobs import Job
from inventory.grants.dossiers import STATUS_LABELS as DOSSIER_STATUS_LABELS
from inventory.grants.models import (
    Dossier,
    DossierDocument,
    DossierSchool,
    Expense,
    ExpenseAllocation,
    FundingLink,
    Payment,
)
from inventory.orgs.models import Collectivite, Ecole
from inventory.reports import indicators as ind
from inventory.reports.dashboard import Dashboard, dashboard
from inventory.reports.levels import Level
from inventory.reports.listing import dossier_money
from inventory.reports.values import euros, indicator_cell
from inventory.training.models import TrainingSession, session_schools

FONT = "SocleVera"
FONT_BOLD = "SocleVera-Bold"


def _register_fonts() -> None:
    """Bitstream Vera ships with reportlab: embedded, it prints accents and '€'."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, "VeraBd.ttf"))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


def _text(value: Any) -> str:
    return escape(str(value if value is not None else "")).replace("\u202f", "\u00a0")


@dataclass
class Subject:
    """What the pack is about: a collectivité, or one of its dossiers."""

    collectivite: Collectivite
    dossier: Dossier | None = None

    @property
    def slug(self) -> str:
        if self.dossier is not None:
            return f"dossier-{self.dossier.id}"
        return f"collectivite-{self.collectivite.siren or self.collectivite.id}"


# -- the rows of each file -------------------------------------------------------------------
def _dossiers(session: Session, user: policy.Subject, subject: Subject) -> list[Dossier]:
    if subject.dossier is not None:
        return [subject.dossier]
    stmt = (
        select(Dossier)
        .where(Dossier.collectivite_id == subject.collectivite.id)
        .options(selectinload(Dossier.payments))
        .order_by(Dossier.id)
    )
    return list(session.scalars(policy.visible(user, stmt, Dossier)))


def _school_ids(session: Session, user: policy.Subject, subject: Subject) -> list[int]:
    if subject.dossier is not None:
        stmt = select(DossierSchool.ecole_id).where(DossierSchool.dossier_id == subject.dossier.id)
        ids = set(session.scalars(policy.visible(user, stmt, DossierSchool)))
        return sorted(
            session.scalars(policy.visible(user, select(Ecole.id).where(Ecole.id.in_(ids)), Ecole))
        )
    stmt = select(Ecole.id).where(Ecole.collectivite_id == subject.collectivite.id)
    return sorted(session.scalars(policy.visible(user, stmt, Ecole)))


EQUIPMENT_HEADERS = (
    "etiquette",
    "categorie",
    "fabricant",
    "modele",
    "numero_de_serie",
    "statut",
    "uai",
    "ecole",
    "classe",
    "fournisseur",
    "numero_de_facture",
    "date_d_achat",
    "prix_ttc",
    "montant_finance",
    "dossiers",
)


def equipment_rows(
    session: Session, user: policy.Subject, subject: Subject
) -> list[tuple[exporting.Cell, ...]]:
    if subject.dossier is not None:
        where: ColumnElement[bool] = Asset.id.in_(
            select(FundingLink.asset_id)
            .join(Expense, Expense.id == FundingLink.expense_id)
            .where(Expense.dossier_id == subject.dossier.id)
        )
    else:
        where = Asset.collectivite_id == subject.collectivite.id
    stmt = policy.visible(
        user,
        select(Asset)
        .where(where)
        .options(
            selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
            selectinload(Asset.category),
            selectinload(Asset.ecole),
            selectinload(Asset.classroom),
        )
        .order_by(Asset.tag),
        Asset,
    )
    assets = list(session.scalars(stmt))
    funded: dict[int, int] = defaultdict(int)
    refs: dict[int, set[str]] = defaultdict(set)
    ids = [a.id for a in assets]
    for i in range(0, len(ids), 900):
        link_stmt = policy.visible(
            user,
            select(FundingLink.asset_id, FundingLink.amount_cents, Dossier.id, Dossier.reference)
            .join(Expense, Expense.id == FundingLink.expense_id)
            .join(Dossier, Dossier.id == Expense.dossier_id)
            .where(FundingLink.asset_id.in_(ids[i : i + 900])),
            FundingLink,
        )
        for asset_id, cents, dossier_id, ref in session.execute(link_stmt):
            if asset_id is None:  # excluded by the query: a link may fund a work instead
                continue
            funded[asset_id] += cents
            refs[asset_id].add(ref or f"#{dossier_id}")
    return [
        (
            a.tag,
            a.category.code,
            a.model.manufacturer.name,
            a.model.name,
            a.serial,
            a.status.value,
            a.ecole.uai if a.ecole else None,
            a.ecole.name if a.ecole else None,
            a.classroom.name if a.classroom else None,
            a.supplier,
            a.invoice_number,
            a.purchase_date,
            euros(a.price_ttc_cents),
            euros(funded[a.id]) if a.id in funded else None,
            ", ".join(sorted(refs[a.id])),
        )
        for a in assets
    ]


INVOICE_HEADERS = (
    "dossier",
    "volet",
    "fournisseur",
    "numero_de_facture",
    "date_de_facture",
    "description",
    "montant_ht",
    "montant_ttc",
    "fichier",
    "repartition_par_ecole",
)


def invoice_rows(
    session: Session, user: policy.Subject, dossiers: Sequence[Dossier]
) -> list[tuple[exporting.Cell, ...]]:
    ids = [d.id for d in dossiers]
    stmt = policy.visible(
        user,
        select(Expense)
        .where(Expense.dossier_id.in_(ids))
        .options(
            selectinload(Expense.dossier),
            selectinload(Expense.allocations).selectinload(ExpenseAllocation.ecole),
        )
        .order_by(Expense.dossier_id, Expense.invoice_date, Expense.id),
        Expense,
    )
    return [
        (
            e.dossier.reference or f"#{e.dossier_id}",
            e.volet,
            e.supplier,
            e.invoice_number,
            e.invoice_date,
            e.description,
            euros(e.amount_ht_cents),
            euros(e.amount_ttc_cents),
            e.filename,
            " | ".join(f"{a.ecole.uai}: {euros(a.amount_ttc_cents)}" for a in e.allocations),
        )
        for e in session.scalars(stmt)
    ]


TRAINING_HEADERS = (
    "date",
    "titre",
    "statut",
    "mode",
    "format",
    "duree_minutes",
    "ecoles",
    "enseignants",
    "directeurs",
    "agents_municipaux",
)


def training_rows(
    session: Session, user: policy.Subject, school_ids: Sequence[int], tz: ZoneInfo
) -> list[tuple[exporting.Cell, ...]]:
    stmt = policy.visible(
        user,
        select(TrainingSession)
        .where(
            TrainingSession.id.in_(
                select(session_schools.c.session_id).where(
                    session_schools.c.ecole_id.in_(school_ids)
                )
            )
        )
        .options(selectinload(TrainingSession.schools))
        .order_by(TrainingSession.starts_at, TrainingSession.id),
        TrainingSession,
    )
    return [
        (
            s.starts_at.astimezone(tz).replace(tzinfo=None),
            s.title,
            s.status.value,
            s.mode.value,
            s.format.value,
            s.duration_minutes,
            ", ".join(sorted(e.uai for e in s.schools)),
            s.teachers,
            s.directors,
            s.municipal_staff,
        )
        for s in session.scalars(stmt)
    ]


JOURNAL_HEADERS = ("date", "auteur", "action", "objet", "identifiant", "libelle", "modifications")


def _journal_where(session: Session, subject: Subject, school_ids: Sequence[int]) -> Any:
    if subject.dossier is None:
        return or_(
            AuditRecord.collectivite_id == subject.collectivite.id,
            AuditRecord.ecole_id.in_(school_ids),
        )
    d = subject.dossier.id
    expense_ids = select(Expense.id).where(Expense.dossier_id == d)
    kinds: list[tuple[str, Any]] = [
        (Dossier.__tablename__, select(Dossier.id).where(Dossier.id == d)),
        (
            DossierSchool.__tablename__,
            select(DossierSchool.id).where(DossierSchool.dossier_id == d),
        ),
        (Expense.__tablename__, expense_ids),
        (
            ExpenseAllocation.__tablename__,
            select(ExpenseAllocation.id).where(ExpenseAllocation.expense_id.in_(expense_ids)),
        ),
        (
            FundingLink.__tablename__,
            select(FundingLink.id).where(FundingLink.expense_id.in_(expense_ids)),
        ),
        (Payment.__tablename__, select(Payment.id).where(Payment.dossier_id == d)),
        (
            DossierDocument.__tablename__,
            select(DossierDocument.id).where(DossierDocument.dossier_id == d),
        ),
    ]
    return or_(
        *(
            and_(AuditRecord.object_type == kind, AuditRecord.object_id.in_(ids))
            for kind, ids in kinds
        )
    )


def journal_rows(
    session: Session,
    user: policy.Subject,
    subject: Subject,
    school_ids: Sequence[int],
    tz: ZoneInfo,
) -> list[tuple[exporting.Cell, ...]]:
    stmt = policy.visible(
        user,
        select(AuditRecord)
        .where(_journal_where(session, subject, school_ids))
        .order_by(AuditRecord.at, AuditRecord.id),
        AuditRecord,
    )
    # Read as the journal reads (labels, names, euros, Paris dates), the references of
    # each batch of records named in one query per referenced table.
    records = list(session.scalars(stmt))
    rows: list[tuple[exporting.Cell, ...]] = []
    for start in range(0, len(records), 500):
        rows.extend(
            (
                e.at.astimezone(tz).replace(tzinfo=None),
                e.actor_label,
                e.action,
                e.type_label,
                e.object_id,
                e.object_label,
                e.summary(),
            )
            for e in readable(session, records[start : start + 500])
        )
    return rows


# -- the PDF ---------------------------------------------------------------------------------
def _money(cents: int | None) -> str:
    if cents is None:
        return "—"
    return format_decimal(euros(cents), format="#,##0.00") + "\u00a0€"


def summary_pdf(
    session: Session,
    user: policy.Subject,
    subject: Subject,
    board: Dashboard | None,
    dossiers: Sequence[Dossier],
    counts: dict[str, int],
    tz: ZoneInfo,
) -> bytes:
    _register_fonts()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["Normal"], fontName=FONT, fontSize=9, leading=12)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10)
    h1 = ParagraphStyle("h1", parent=styles["Heading1"], fontName=FONT_BOLD, fontSize=15)
    h2 = ParagraphStyle("h2", parent=styles["Heading2"], fontName=FONT_BOLD, fontSize=11)
    coll = subject.collectivite
    story: list[Any] = []
    title = _("Evidence pack")
    story.append(Paragraph(_text(f"{title} — {coll.name}"), h1))
    facts = [
        (_("Collectivité"), coll.name),
        (_("SIREN"), coll.siren or "—"),
        (_("Generated on"), utcnow().astimezone(tz).strftime("%Y-%m-%d %H:%M")),
    ]
    if subject.dossier is not None:
        d = subject.dossier
        facts += [
            (_("Dossier"), f"{d.reference or '#' + str(d.id)} — {d.title}"),
            (_("Scheme"), d.scheme.name),
            (_("Status"), str(DOSSIER_STATUS_LABELS[d.status])),
            (_("Convention maximum"), _money(d.convention_max_cents)),
        ]
    story.append(
        Table(
            [[Paragraph(_text(k), body), Paragraph(_text(v), body)] for k, v in facts],
            colWidths=[45 * mm, 125 * mm],
        )
    )
    if board is not None:
        story.append(Paragraph(_text(_("Figures")), h2))
        lines = [[Paragraph(_text(_("Indicator")), body), Paragraph(_text(_("Value")), body)]]
        for indicator in ind.INDICATORS:
            if not indicator.applies(board.grain):
                continue
            cell = indicator_cell(indicator, board.totals)
            if cell is None:
                shown = "—"
            elif indicator.unit is ind.Unit.MONEY:
                shown = _money(int(cell * 100))
            else:
                shown = str(cell)
            lines.append([Paragraph(_text(indicator.label), body), Paragraph(_text(shown), body)])
        story.append(_table(lines, [130 * mm, 40 * mm]))
    story.append(Paragraph(_text(_("Dossiers")), h2))
    money = dossier_money(
        session,
        user,
        Level.COLLECTIVITE,
        coll,
        [d.id for d in dossiers],
    )
    lines = [
        [
            Paragraph(_text(h), small)
            for h in (
                _("Dossier"),
                _("Status"),
                _("Convention maximum"),
                _("Spending"),
                _("Aid computed"),
                _("Aid paid"),
            )
        ]
    ]
    for d in dossiers:
        f = money.get(d.id)
        lines.append(
            [
                Paragraph(_text(f"{d.reference or '#' + str(d.id)} — {d.title}"), small),
                Paragraph(_text(str(DOSSIER_STATUS_LABELS[d.status])), small),
                Paragraph(_text(_money(d.convention_max_cents)), small),
                Paragraph(_text(_money(f["spending_cents"]) if f else "—"), small),
                Paragraph(_text(_money(f["aid_cents"]) if f else "—"), small),
                Paragraph(_text(_money(f["paid_cents"]) if f else "—"), small),
            ]
        )
    story.append(_table(lines, [60 * mm, 22 * mm, 22 * mm, 22 * mm, 22 * mm, 22 * mm]))
    story.append(Spacer(1, 4 * mm))
    story.append(Paragraph(_text(_("Files of this pack")), h2))
    for name, n in counts.items():
        story.append(Paragraph(_text(f"{name}: {n}"), body))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"{title} — {coll.name}",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    )
    doc.build(story)
    return out.getvalue()


def _table(lines: list[list[Any]], widths: list[float]) -> Table:
    t = Table(lines, colWidths=widths, repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return t


# -- the ZIP ---------------------------------------------------------------------------------
EVIDENCE_JOB = "reports.evidence"
# The steps of a pack, for its progress page: the four CSV files, the figures, the PDF.
STEPS = 6


def evidence_pack(
    session: Session,
    user: policy.Subject,
    subject: Subject,
    tz: ZoneInfo,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """The ZIP of ``subject`` as ``user`` may see it; ``progress`` hears the steps done."""
    policy.require(user, policy.Action.EXPORT)
    step = progress or (lambda done: None)
    dossiers = _dossiers(session, user, subject)
    school_ids = _school_ids(session, user, subject)
    files: dict[str, tuple[Sequence[str], list[tuple[exporting.Cell, ...]]]] = {}
    readers: list[tuple[str, Sequence[str], Callable[[], list[tuple[exporting.Cell, ...]]]]] = [
        ("equipements.csv", EQUIPMENT_HEADERS, lambda: equipment_rows(session, user, subject)),
        ("factures.csv", INVOICE_HEADERS, lambda: invoice_rows(session, user, dossiers)),
        (
            "formations.csv",
            TRAINING_HEADERS,
            lambda: training_rows(session, user, school_ids, tz),
        ),
        (
            "journal.csv",
            JOURNAL_HEADERS,
            lambda: journal_rows(session, user, subject, school_ids, tz),
        ),
    ]
    for done, (name, headers, read) in enumerate(readers, start=1):
        files[name] = (headers, read())
        step(done)
    board = (
        dashboard(session, user, Level.COLLECTIVITE, subject.collectivite)
        if subject.dossier is None
        else None
    )
    step(len(readers) + 1)
    counts = {name: len(rows) for name, (_h, rows) in files.items()}
    pdf = summary_pdf(session, user, subject, board, dossiers, counts, tz)
    out = io.BytesIO()
    stamp = datetime.now(tz).timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("synthese.pdf", date_time=stamp), pdf)
        for name, (headers, rows) in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, exporting.csv_bytes(headers, rows))
    step(STEPS)
    return out.getvalue()


def queue_pack(session: Session, user: policy.Subject, subject: Subject, locale: str) -> Job:
    """Ask for the pack of ``subject`` (in ``user``'s scope, loaded through the policy by
    the caller): a job for the acting user builds it, in ``locale``, and keeps the ZIP for
    its owner. The collectivité's staff may follow the job; only its owner downloads."""
    policy.require(user, policy.Action.EXPORT)
    params = {
        "collectivite": subject.collectivite.id,
        "dossier": subject.dossier.id if subject.dossier is not None else None,
        "locale": locale,
    }
    return jobs.submit(
        session, EVIDENCE_JOB, params, total=STEPS, collectivite_id=subject.collectivite.id
    )
