"""The supplier typed on an item, linked to its collectivité's directory.

An item keeps its supplier's name as typed (``Asset.supplier``) and the directory's entry
(``Asset.supplier_id``). The directory belongs to the suppliers domain, which comes after
this one in the domain order: it registers, when the application starts, how names are
found or entered in it (:func:`register_directory`), and every write of an item
(:mod:`inventory.assets.lifecycle`: a form, quick add, an import, the API) asks it here,
in the item's own session, so that the entry and the item commit or fail together.
Without a registered directory (a script without the application), items keep the name
only."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from sqlalchemy.orm import Session

from inventory.assets.models import Asset

# (collectivité id, name as typed) pairs → the directory entry's id of each, found by its
# name (letter case and spaces aside) or created.
Directory = Callable[[Session, Collection[tuple[int, str]]], Mapping[tuple[int, str], int]]
_DIRECTORY: list[Directory] = []


def name_key(name: str | None) -> str:
    """How a supplier's name is compared: letter case and spaces aside."""
    return " ".join((name or "").split()).casefold()


def register_directory(directory: Directory) -> None:
    """The one directory items' suppliers are linked to (registering again replaces it)."""
    _DIRECTORY[:] = [directory]


def directory_ids(
    session: Session, names: Collection[tuple[int, str]]
) -> Mapping[tuple[int, str], int]:
    """The entries of ``names`` (collectivité id, name), found or created: one call for a
    batch of items."""
    if not names or not _DIRECTORY:
        return {}
    return _DIRECTORY[0](session, names)


def link_values(session: Session, rows: Collection[tuple[int, dict[str, object]]]) -> None:
    """Set ``supplier_id`` in the values of new items (collectivité id, values) that name
    a supplier."""
    wanted = {(c, str(v["supplier"])) for c, v in rows if v.get("supplier")}
    found = directory_ids(session, wanted)
    for collectivite_id, values in rows:
        name = values.get("supplier")
        values["supplier_id"] = found.get((collectivite_id, str(name))) if name else None


def relink(session: Session, asset: Asset) -> None:
    """After an edit of the item's supplier or collectivité: its entry for the name it now
    has (none when the name is cleared)."""
    relink_many(session, [asset])


def relink_many(session: Session, assets: Collection[Asset]) -> None:
    """:func:`relink` for a batch of edited items (an import's), one directory call."""
    for asset in assets:
        if not asset.supplier:
            asset.supplier_id = None
    named = [(a, (a.collectivite_id, a.supplier)) for a in assets if a.supplier]
    if not named or not _DIRECTORY:
        return
    found = directory_ids(session, {key for _, key in named})
    for asset, key in named:
        asset.supplier_id = found.get(key)
