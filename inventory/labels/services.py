"""Labels for assets and classrooms: tokens, funding mentions, rendering, print log."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.lists import AssetFilters
from inventory.assets.models import Asset, EquipmentModel
from inventory.core import audit, jobs, policy
from inventory.core.errors import DomainError
from inventory.core.jobs import Job
from inventory.core.policy import Action, Subject
from inventory.core.storage import Storage
from inventory.labels import mentions, tokens
from inventory.labels.models import LabelFormat, PrintJob, ScanToken
from inventory.labels.render import Label, Sheet, render_pdf
from inventory.orgs.models import Classroom, Ecole

MAX_LABELS = 5000


class LabelError(DomainError):
    pass


def formats(session: Session) -> list[LabelFormat]:
    return list(session.scalars(select(LabelFormat).order_by(LabelFormat.id)))


def format_by_code(session: Session, code: str) -> LabelFormat:
    fmt = session.scalar(select(LabelFormat).filter_by(code=code))
    if fmt is None:
        raise LabelError(_l("Unknown label format."), field="format")
    return fmt


@dataclass
class LabelBatch:
    labels: list[Label]
    asset_ids: list[int]
    classroom_ids: list[int]


def asset_labels(
    session: Session, user: Subject, base_url: str, asset_ids: Sequence[int]
) -> LabelBatch:
    """Labels for the assets (in scope) of ``asset_ids``, in the order given."""
    if len(asset_ids) > MAX_LABELS:
        raise LabelError(_l("At most %(n)d labels at once.", n=MAX_LABELS))
    found: dict[int, Asset] = {}
    for i in range(0, len(asset_ids), 900):
        stmt = (
            select(Asset)
            .where(Asset.id.in_(list(asset_ids[i : i + 900])))
            .options(
                selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
                selectinload(Asset.ecole).selectinload(Ecole.commune),
                selectinload(Asset.classroom),
                selectinload(Asset.collectivite),
            )
        )
        found.update({a.id: a for a in session.scalars(policy.visible(user, stmt, Asset))})
    ids = [i for i in dict.fromkeys(asset_ids) if i in found]
    toks = tokens.active_tokens(session, asset_ids=ids)
    texts = mentions.collectivite_texts(session, {found[i].collectivite_id for i in ids})
    funding = mentions.asset_mentions(session, (found[i] for i in ids), texts)
    labels = []
    for asset_id in ids:
        asset = found[asset_id]
        token = toks[("asset", asset_id)]
        url = tokens.scan_url(base_url, token.token)
        place = asset.ecole.name if asset.ecole else asset.collectivite.name
        room = asset.classroom.name if asset.classroom else ""
        mention = funding[asset_id]
        labels.append(
            Label(
                tokens.matrix_for(token, url),
                asset.tag,
                (place, room, asset.model.full_name),
                mention.text,
                emblem=mention.emblem,
                france_relance=mention.france_relance,
                prompt=texts.get(asset.collectivite_id, (None, None))[1],
            )
        )
    return LabelBatch(labels, ids, [])


def classroom_labels(
    session: Session, user: Subject, base_url: str, classroom_ids: Sequence[int]
) -> LabelBatch:
    """Room labels: teachers scan them for room-level problems (wifi, sockets…)."""
    stmt = (
        select(Classroom)
        .where(Classroom.id.in_(list(classroom_ids)))
        .options(selectinload(Classroom.ecole))
    )
    rooms = {r.id: r for r in session.scalars(policy.visible(user, stmt, Classroom))}
    ids = [i for i in dict.fromkeys(classroom_ids) if i in rooms]
    toks = tokens.active_tokens(session, classroom_ids=ids)
    owners = {r.ecole.collectivite_id for r in rooms.values()}
    prompts = mentions.collectivite_texts(session, owners)
    labels = []
    for room_id in ids:
        room, token = rooms[room_id], toks[("classroom", room_id)]
        url = tokens.scan_url(base_url, token.token)
        labels.append(
            Label(
                tokens.matrix_for(token, url),
                room.name,
                (room.ecole.name, str(_l("Report a problem in this room"))),
                prompt=prompts.get(room.ecole.collectivite_id or 0, (None, None))[1],
            )
        )
    return LabelBatch(labels, [], ids)


def print_labels(
    session: Session, user: Subject, batch: LabelBatch, fmt: LabelFormat, skip: int = 0
) -> bytes:
    """Render, log the print and keep the new tokens and cached matrices, in one commit."""
    if not policy.allowed(user, Action.EDIT):
        raise policy.Denied()
    if not batch.labels:
        raise LabelError(_l("Nothing to print: select at least one item."))
    _check_skip(fmt, skip)
    pdf = render_pdf(Sheet.of(fmt), batch.labels, skip=skip, title="Socle")
    actor = audit.current_actor()
    collectivite_id = _collectivite_of(session, batch)
    session.add(
        PrintJob(
            user_id=actor.user_id,
            actor_label=actor.label,
            format_code=fmt.code,
            skip=skip,
            asset_ids=batch.asset_ids,
            classroom_ids=batch.classroom_ids,
            count=len(batch.labels),
            collectivite_id=collectivite_id,
        )
    )
    session.commit()
    return pdf


def _check_skip(fmt: LabelFormat, skip: int) -> None:
    if skip < 0 or (not fmt.continuous and skip >= fmt.per_page):
        raise LabelError(
            _l("Start at a position between 1 and %(n)d.", n=fmt.per_page), field="start"
        )


def _collectivite_of(session: Session, batch: LabelBatch) -> int | None:
    if batch.asset_ids:
        return session.scalar(select(Asset.collectivite_id).where(Asset.id == batch.asset_ids[0]))
    if batch.classroom_ids:
        return session.scalar(
            select(Ecole.collectivite_id)
            .join(Classroom)
            .where(Classroom.id == batch.classroom_ids[0])
        )
    return None


def print_log(session: Session, user: Subject, limit: int = 100) -> list[PrintJob]:
    stmt = select(PrintJob).order_by(PrintJob.id.desc()).limit(limit)
    return list(session.scalars(policy.visible(user, stmt, PrintJob)))


def reissue_token(session: Session, user: Subject, token: ScanToken) -> ScanToken:
    item = token.asset or token.classroom
    if item is None or not policy.can(user, Action.EDIT, item, session):
        raise policy.Denied()
    if token.revoked_at is not None:
        raise LabelError(_l("This label was already replaced."))
    fresh = tokens.reissue(session, token)
    session.commit()
    return fresh


PRINT_JOB = "labels.print"


def queue_print(
    session: Session,
    user: Subject,
    asset_ids: Sequence[int],
    classroom_ids: Sequence[int],
    fmt: LabelFormat,
    skip: int,
    base_url: str,
) -> Job:
    """A large print: logged now, rendered by a job (``labels.tasks``) that the user follows
    on its progress page. Only the ids are read here; the job builds the labels, with the
    address its QR codes carry (``base_url``) decided now."""
    if not policy.allowed(user, Action.EDIT):
        raise policy.Denied()
    if not asset_ids and not classroom_ids:
        raise LabelError(_l("Nothing to print: select at least one item."))
    if len(asset_ids) > MAX_LABELS:
        raise LabelError(_l("At most %(n)d labels at once.", n=MAX_LABELS))
    _check_skip(fmt, skip)
    actor = audit.current_actor()
    empty = LabelBatch([], list(asset_ids), list(classroom_ids))
    collectivite_id = _collectivite_of(session, empty)
    job = jobs.record(
        session,
        PRINT_JOB,
        {"base_url": base_url},
        total=len(asset_ids) + len(classroom_ids),
        collectivite_id=collectivite_id,
    )
    session.add(
        PrintJob(
            user_id=actor.user_id,
            actor_label=actor.label,
            format_code=fmt.code,
            skip=skip,
            asset_ids=list(asset_ids),
            classroom_ids=list(classroom_ids),
            count=len(asset_ids) + len(classroom_ids),
            collectivite_id=collectivite_id,
            job=job,
        )
    )
    session.commit()
    jobs.start(job)
    return job


def render_job(
    session: Session,
    user: Subject,
    base_url: str,
    record: PrintJob,
    folder: Storage,
    progress: Callable[[int, int | None], None],
) -> str:
    """The work of a print job: its labels (tokens issued), the PDF written into
    ``folder``; returns the file's name, also kept in the print log."""
    if record.classroom_ids:
        batch = classroom_labels(session, user, base_url, record.classroom_ids)
    else:
        batch = asset_labels(session, user, base_url, record.asset_ids)
    if not batch.labels:
        raise LabelError(_l("Nothing to print: select at least one item."))
    record.count = len(batch.labels)
    session.commit()  # the tokens and matrices issued stay, whatever happens next
    progress(0, len(batch.labels))
    fmt = format_by_code(session, record.format_code)
    pdf = render_pdf(
        Sheet.of(fmt), batch.labels, skip=record.skip, progress=lambda n: progress(n, None)
    )
    name = f"{secrets.token_hex(16)}.pdf"
    folder.save(name, pdf)
    record.file_name = name
    session.commit()
    return name


def delete_old_files(session: Session, folder: Storage, older_than: datetime) -> int:
    """Delete the prepared PDFs of prints made before ``older_than``; how many. The print
    log keeps the print (a reprint renders it again)."""
    records = session.scalars(
        select(PrintJob)
        .where(PrintJob.file_name.is_not(None), PrintJob.created_at < older_than)
        .order_by(PrintJob.id)
    ).all()
    for record in records:
        folder.delete(str(record.file_name))
        record.file_name = None
    session.commit()
    return len(records)


def render_preview(fmt: LabelFormat, batch: LabelBatch, skip: int) -> bytes:
    """The first page with every position outlined, to check alignment before printing."""
    return render_pdf(Sheet.of(fmt), batch.labels, skip=skip, outline=True, title="Aperçu")


def selection_count(
    session: Session, user: Subject, filters: AssetFilters, school_rooms: int | None = None
) -> int:
    """How many labels a selection gives: a school's rooms, or the filtered assets."""
    if school_rooms:
        stmt = select(func.count()).select_from(Classroom).where(Classroom.ecole_id == school_rooms)
        return session.scalar(policy.visible(user, stmt, Classroom)) or 0
    stmt = filters.apply(select(func.count()).select_from(Asset))
    return session.scalar(policy.visible(user, stmt, Asset)) or 0
