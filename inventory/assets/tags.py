"""Asset tags: the collectivité's pattern and its numbering, the one rule for every way
an item is recorded (a form, quick add, an import).

Items are numbered per pattern, the collectivité's prefix and the year
(``CRE-2024-00042``), from the pattern's counter, which collectivités of the same prefix
share; only the numbers already taken (tags imported as they were) are skipped, so that
no number is lost."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from inventory.assets.models import Asset, TagCounter
from inventory.core.db import insert_absent
from inventory.core.text import fold
from inventory.orgs.models import Collectivite

# Tags looked up per statement (an IN list of exact tags: the unique index serves it on
# any collation).
_LOOKUP = 500
# The first window of numbers looked up for free ones: a pattern's first item of a year
# usually follows a few dozen tags given before (imported as they were).
_FIRST_WINDOW = 128

# A tag pattern: the prefix and the year (``CRE``, 2024 → ``CRE-2024-00042``).
Pattern = tuple[str, int]


def tag_prefix(coll: Collectivite) -> str:
    if coll.asset_tag_prefix:
        return coll.asset_tag_prefix
    letters = re.sub(r"[^A-Z]", "", fold(coll.name).upper())
    return (letters[:3] or "SOC").ljust(3, "X")


def next_tag(session: Session, coll: Collectivite, year: int) -> str:
    """The next free tag of the collectivité's pattern, e.g. ``CRE-2021-00042``."""
    (tag,) = next_tags(session, coll, year, 1)
    return tag


def next_tags(
    session: Session,
    coll: Collectivite,
    year: int,
    n: int,
    *,
    reserved: Collection[str] = (),
) -> list[str]:
    """The next ``n`` free tags of the collectivité's pattern for ``year``, in order.

    The pattern's counter is bumped with one UPDATE … RETURNING, atomic on SQLite and
    PostgreSQL (it holds the row, or the database, until the commit), so that two people
    adding items at once, in one collectivité or in two of the same prefix, never get
    the same number. Numbers already taken (tags imported as they were), or ``reserved``
    (tags an import's file names further down), are skipped: the counter then moves
    past them, a run of thousands found in a handful of lookups."""
    (tags,) = next_tags_of_many(session, [(coll, year, n)], reserved=reserved)
    return tags


def next_tags_of_many(
    session: Session,
    wanted: Sequence[tuple[Collectivite, int, int]],
    *,
    reserved: Collection[str] = (),
) -> list[list[str]]:
    """:func:`next_tags` for many (collectivité, year, count) at once, in that order, as
    an import's batch needs them (a tag or two for each of thousands of collectivités).

    Each pattern's counter is bumped once by what all its collectivités ask for (one
    UPDATE … RETURNING per year and chunk of patterns, as atomic as one), and the block
    it gives is handed out in the order asked. The blocks are looked up together; one
    that meets a taken tag goes on from itself, so that no number is lost."""
    keys = [(coll.id, year) for coll, year, _n in wanted]
    assert len(set(keys)) == len(keys), "one request per collectivité and year"
    patterns = [(tag_prefix(coll), year) for coll, year, _n in wanted]
    totals: dict[Pattern, int] = {}
    for pattern, (_coll, _year, n) in zip(patterns, wanted, strict=True):
        if n > 0:
            totals[pattern] = totals.get(pattern, 0) + n
    tops = _bump_or_start(session, totals)
    blocks = {p: _block(p, tops[p] - totals[p], tops[p]) for p in totals}
    taken = _taken(session, [t for block in blocks.values() for t in block], reserved)
    handed: dict[Pattern, Iterator[str]] = {}
    for pattern, block in blocks.items():
        if any(t in taken for t in block):
            block = _from_block(session, pattern, totals[pattern], tops[pattern], reserved, taken)
        handed[pattern] = iter(block)
    return [
        [next(handed[pattern]) for _ in range(n)]
        for pattern, (_coll, _year, n) in zip(patterns, wanted, strict=True)
    ]


def _tag(pattern: Pattern, number: int) -> str:
    prefix, year = pattern
    return f"{prefix}-{year}-{number:05d}"


def _block(pattern: Pattern, after: int, last: int) -> list[str]:
    return [_tag(pattern, k) for k in range(after + 1, last + 1)]


def _from_block(
    session: Session,
    pattern: Pattern,
    n: int,
    last: int,
    reserved: Collection[str],
    taken: Collection[str],
) -> list[str]:
    """The ``n`` tags of the block the counter just gave (up to ``last``; ``taken``: those
    of its tags known to be taken), the taken ones replaced by the next free numbers, the
    counter moved past them."""
    tags = [t for t in _block(pattern, last - n, last) if t not in taken]
    while True:
        short = n - len(tags)
        if not short:
            return tags
        more = _free_after(session, pattern, last, short, reserved)
        moved = _bump(session, {pattern: more[-1] - last})[pattern]
        if moved == more[-1]:
            return tags + [_tag(pattern, k) for k in more]
        # Another transaction moved the counter in between: the block just reserved is
        # checked instead.
        block = _block(pattern, moved - (more[-1] - last), moved)
        taken, last = _taken(session, block, reserved), moved
        tags += [t for t in block if t not in taken]


def _bump_or_start(session: Session, by: dict[Pattern, int]) -> dict[Pattern, int]:
    """Add to each pattern's counter what is asked of it: the new values. A pattern's
    first counter is written at 0 then bumped; one written meanwhile by another
    transaction is kept (``insert_absent``), so that both number from it."""
    tops = _bump(session, by)
    if missing := [p for p in by if p not in tops]:
        rows = [{"prefix": p, "year": y, "last": 0} for p, y in sorted(missing)]
        insert_absent(session, TagCounter.__table__, rows)
        tops.update(_bump(session, {p: by[p] for p in missing}))
    return tops


def _bump(session: Session, by: dict[Pattern, int]) -> dict[Pattern, int]:
    """Add ``by`` to the counters that exist (one UPDATE … RETURNING per year and chunk
    of prefixes, taken in order so that two transactions lock them in the same order):
    their new values."""
    per_year: dict[int, dict[str, int]] = defaultdict(dict)
    for (prefix, year), n in by.items():
        per_year[year][prefix] = n
    out: dict[Pattern, int] = {}
    for year, counts in sorted(per_year.items()):
        prefixes = sorted(counts)
        for i in range(0, len(prefixes), _LOOKUP):
            chunk = {p: counts[p] for p in prefixes[i : i + _LOOKUP]}
            stmt = (
                update(TagCounter)
                .where(TagCounter.year == year, TagCounter.prefix.in_(list(chunk)))
                .values(last=TagCounter.last + case(chunk, value=TagCounter.prefix))
                .returning(TagCounter.prefix, TagCounter.last)
                .execution_options(synchronize_session=False)
            )
            out.update(((prefix, year), last) for prefix, last in session.execute(stmt))
    return out


def _taken(session: Session, tags: Iterable[str], reserved: Collection[str]) -> set[str]:
    """Which of ``tags`` the database holds, or ``reserved`` names."""
    found = {t for t in tags if t in reserved}
    for chunk in _chunks([t for t in tags if t not in found]):
        found.update(session.scalars(select(Asset.tag).where(Asset.tag.in_(chunk))))
    return found


def _free_after(
    session: Session, pattern: Pattern, after: int, count: int, reserved: Collection[str]
) -> list[int]:
    """The first ``count`` numbers after ``after`` whose tags are free: windows of numbers
    looked up, each twice the last, until they hold enough (a long run of taken numbers
    costs a few lookups; the tags are looked up exactly, as the unique index serves them
    on any collation)."""
    free: list[int] = []
    low, width = after, max(count, _FIRST_WINDOW)
    while True:
        window = _block(pattern, low, low + width)
        taken = _taken(session, window, reserved)
        free += [k for k, t in enumerate(window, start=low + 1) if t not in taken]
        if len(free) >= count:
            return free[:count]
        low, width = low + width, width * 2


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(values), _LOOKUP):
        yield values[i : i + _LOOKUP]
