"""Asset tags: the collectivité's pattern and its numbering, the one rule for every way
an item is recorded (a form, quick add, an import).

A collectivité numbers its items per year from its counter (``CRE-2024-00042``),
skipping only the numbers already taken (by a collectivité of the same prefix, or by
tags imported as they were), so that no number is lost."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence

from sqlalchemy import case, insert, select, update
from sqlalchemy.orm import Session

from inventory.assets.models import Asset, TagCounter
from inventory.core.text import fold
from inventory.orgs.models import Collectivite

# Tags looked up per statement (an IN list of exact tags: the unique index serves it on
# any collation).
_LOOKUP = 500
# The first window of numbers looked up for free ones: a collectivité's first item of a
# year usually follows a few dozen tags given before (imported as they were).
_FIRST_WINDOW = 128
# The numbers looked up beyond those wanted when many collectivités start a year at once.
_FIRST_SPARE = 8


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

    The counter row is bumped with one UPDATE … RETURNING, atomic on SQLite and
    PostgreSQL (it holds the row, or the database, until the commit), so that two people
    adding items at once never get the same number. Numbers already taken, or
    ``reserved`` (tags an import's file names further down), are skipped: the counter
    then moves past them, a run of thousands found in a handful of lookups."""
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

    The counters of a year are bumped together (one UPDATE … RETURNING per chunk of
    them, as atomic as one); the blocks they give, and the first numbers of those without
    a counter yet (whose counters are then written together), are looked up together. A
    block that meets a taken tag (or a tag given here to another collectivité of the same
    prefix) goes on the one-by-one way from itself, so that no number is lost."""
    keys = [(coll.id, year) for coll, year, _n in wanted]
    assert len(set(keys)) == len(keys), "one request per collectivité and year"
    bumped: dict[tuple[int, int], int] = {}
    by_year: dict[int, dict[int, int]] = defaultdict(dict)
    for coll, year, n in wanted:
        if n > 0:
            by_year[year][coll.id] = n
    for year, counts in by_year.items():
        ids = list(counts)
        for i in range(0, len(ids), _LOOKUP):
            chunk = {c: counts[c] for c in ids[i : i + _LOOKUP]}
            stmt = (
                update(TagCounter)
                .where(TagCounter.year == year, TagCounter.collectivite_id.in_(list(chunk)))
                .values(last=TagCounter.last + case(chunk, value=TagCounter.collectivite_id))
                .returning(TagCounter.collectivite_id, TagCounter.last)
                .execution_options(synchronize_session=False)
            )
            for coll_id, last in session.execute(stmt):
                bumped[(coll_id, year)] = last
    prefixes = [f"{tag_prefix(coll)}-{year}-" for coll, year, _n in wanted]
    blocks: dict[int, list[str]] = {}
    for i, (coll, year, n) in enumerate(wanted):
        top = bumped.get((coll.id, year))
        if top is not None:
            blocks[i] = [_tag(prefixes[i], k) for k in range(top - n + 1, top + 1)]
    # Without a counter yet (the year's first items): the first numbers, looked up with
    # a few more in case some are taken; the counters are then written together.
    firsts: dict[int, list[tuple[int, str]]] = {
        i: [(k, _tag(prefixes[i], k)) for k in range(1, n + _FIRST_SPARE + 1)]
        for i, (_coll, _year, n) in enumerate(wanted)
        if n > 0 and i not in blocks
    }
    lookup = [t for block in blocks.values() for t in block]
    lookup += [t for first in firsts.values() for _k, t in first]
    taken = _taken(session, lookup, reserved)
    given: set[str] = set()
    out: list[list[str]] = []
    counters: list[dict[str, int]] = []
    for i, (coll, year, n) in enumerate(wanted):
        block = blocks.get(i)
        free = [(k, t) for k, t in firsts.get(i, ()) if t not in taken and t not in given]
        if n <= 0:
            found: list[str] = []
        elif block is not None and not any(t in taken or t in given for t in block):
            found = block
        elif block is None and len(free) >= n:
            found = [t for _k, t in free[:n]]
            counters.append({"collectivite_id": coll.id, "year": year, "last": free[n - 1][0]})
        elif block is None:  # many taken: searched further, alone, its counter made
            found = _first_of_year(session, coll.id, prefixes[i], year, n, {*reserved, *given})
        else:
            last = bumped[(coll.id, year)]
            found = _from_block(session, coll.id, prefixes[i], year, n, last, {*reserved, *given})
        given.update(found)
        out.append(found)
    if counters:
        session.execute(insert(TagCounter), counters)
    return out


def _first_of_year(
    session: Session,
    collectivite_id: int,
    prefix: str,
    year: int,
    n: int,
    reserved: Collection[str],
) -> list[str]:
    """The collectivité's first ``n`` tags of the year (no counter yet): the first free
    numbers, after any tag given already, and the counter made at the last of them."""
    numbers = _free_after(session, prefix, 0, n, reserved)
    row = {"collectivite_id": collectivite_id, "year": year, "last": numbers[-1]}
    session.execute(insert(TagCounter), [row])
    return [_tag(prefix, k) for k in numbers]


def _from_block(
    session: Session,
    collectivite_id: int,
    prefix: str,
    year: int,
    n: int,
    last: int,
    reserved: Collection[str],
) -> list[str]:
    """The ``n`` tags of the block the counter just gave (up to ``last``), the numbers
    taken in it replaced by the next free ones, the counter moved past them."""
    start = last - n + 1
    tags: list[str] = []
    while True:
        block = [_tag(prefix, k) for k in range(start, last + 1)]
        taken = _taken(session, block, reserved)
        tags += [t for t in block if t not in taken]
        short = n - len(tags)
        if not short:
            return tags
        more = _free_after(session, prefix, last, short, reserved)
        moved = _bump(session, collectivite_id, year, more[-1] - last)
        assert moved is not None
        if moved == more[-1]:
            return tags + [_tag(prefix, k) for k in more]
        # Another transaction moved the counter in between: the block just reserved is
        # checked instead.
        start, last = moved - (more[-1] - last) + 1, moved


def _tag(prefix: str, number: int) -> str:
    return f"{prefix}{number:05d}"


def _bump(session: Session, collectivite_id: int, year: int, by: int) -> int | None:
    """Add ``by`` to the counter: its new value, or None when it does not exist yet."""
    stmt = (
        update(TagCounter)
        .where(TagCounter.collectivite_id == collectivite_id, TagCounter.year == year)
        .values(last=TagCounter.last + by)
        .returning(TagCounter.last)
    )
    return session.execute(stmt).scalar()


def _taken(session: Session, tags: Iterable[str], reserved: Collection[str]) -> set[str]:
    """Which of ``tags`` the database holds, or ``reserved`` names."""
    found = {t for t in tags if t in reserved}
    for chunk in _chunks([t for t in tags if t not in found]):
        found.update(session.scalars(select(Asset.tag).where(Asset.tag.in_(chunk))))
    return found


def _free_after(
    session: Session, prefix: str, after: int, count: int, reserved: Collection[str]
) -> list[int]:
    """The first ``count`` numbers after ``after`` whose tags are free: windows of numbers
    looked up, each twice the last, until they hold enough (a long run of taken numbers
    costs a few lookups; the tags are looked up exactly, as the unique index serves them
    on any collation)."""
    free: list[int] = []
    low, width = after, max(count, _FIRST_WINDOW)
    while True:
        window = [_tag(prefix, k) for k in range(low + 1, low + width + 1)]
        taken = _taken(session, window, reserved)
        free += [k for k, t in enumerate(window, start=low + 1) if t not in taken]
        if len(free) >= count:
            return free[:count]
        low, width = low + width, width * 2


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(values), _LOOKUP):
        yield values[i : i + _LOOKUP]
