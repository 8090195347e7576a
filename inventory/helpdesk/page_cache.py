"""Rendered parts of the public scan page, kept per process.

The public scan page is the most requested page of Socle, and labels are many: two
million, each scanned now and then. Rendering the page (its report form above all) costs
far more than reading what it shows, and most of it is the same for every item offered
the same problems. So the page is rendered once per language and list of problems as a
*frame*, with slots where the item, its URLs and the visitor's CSRF token go; the item's
part (its facts and open problems) is rendered on its own, and kept too.

Whatever is kept is found under a key holding everything it shows (``services.PublicPage``
for the item, the problem choices for the frame), read again on every request: a new
report, a status change, a renamed room or problem type gives another key at once, in
every worker, with no expiry to tune and no invalidation to forget.

Slots are per process and unguessable, so that no content can forge one; they are made
of characters that HTML escaping leaves as they are.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app, g
from markupsafe import Markup, escape


def new_slot(name: str) -> str:
    """A slot for a text printed in a kept page, to be replaced by its escaped value."""
    return f"{name}-slot-{secrets.token_hex(16)}"


CSRF_SLOT = new_slot("csrf")
TITLE_SLOT = new_slot("title")
ITEM_SLOT = new_slot("item")
ACTION_SLOT = new_slot("action")
NEXT_SLOT = new_slot("next")


class PageCache:
    """A bounded least-recently-used map from a content key to rendered HTML."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._pages: OrderedDict[Hashable, str] = OrderedDict()
        # The development server and threaded workers serve requests concurrently.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: Hashable) -> str | None:
        """What is kept under ``key``, if anything."""
        with self._lock:
            html = self._pages.get(key)
            if html is not None:
                self._pages.move_to_end(key)
            return html

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> str:
        """What is kept under ``key``, else what ``render()`` gives, kept from now on."""
        with self._lock:
            html = self._pages.get(key)
            if html is not None:
                self._pages.move_to_end(key)
                return html
        html = render()
        if self.entries > 0:
            with self._lock:
                self._pages[key] = html
                while len(self._pages) > self.entries:
                    self._pages.popitem(last=False)
        return html

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def render_frame(render: Callable[[], str]) -> str:
    """``render()``, with :data:`CSRF_SLOT` wherever the CSRF token would be."""
    # Flask-WTF's generate_csrf (behind ``csrf_token()`` and every form's hidden field)
    # answers what g holds under the field name, for the rest of the request.
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    kept = g.pop(name, None)
    setattr(g, name, CSRF_SLOT)
    try:
        return render()
    finally:
        g.pop(name, None)
        if kept is not None:
            setattr(g, name, kept)


_SLOTS = re.compile(
    "|".join(re.escape(s) for s in (TITLE_SLOT, ITEM_SLOT, ACTION_SLOT, NEXT_SLOT, CSRF_SLOT))
)
# Each frame cut at its slots once: filling then joins a few pieces instead of searching
# the whole page for each slot. Frames are few (FRAME_CACHE_ENTRIES per worker).
_cut_frames: dict[str, tuple[list[str], list[str]]] = {}
_CUT_FRAMES = 1024


def _cut(frame: str) -> tuple[list[str], list[str]]:
    """The frame's texts between its slots, and the slots in their order."""
    cut = _cut_frames.get(frame)
    if cut is None:
        if len(_cut_frames) >= _CUT_FRAMES:
            _cut_frames.clear()
        cut = _cut_frames[frame] = (_SLOTS.split(frame), _SLOTS.findall(frame))
    return cut


def fill(frame: str, *, title: str, action: str, next_path: str, item: str, csrf: str) -> str:
    """A frame of :func:`render_frame` with its slots filled: plain text for ``title``,
    ``action`` and ``next_path``, rendered HTML for ``item``, and the visitor's CSRF
    token. Only the frame's own slots are filled: what the values hold is never taken for
    one."""
    values = {
        TITLE_SLOT: escape(title),
        ACTION_SLOT: escape(action),
        NEXT_SLOT: escape(next_path),
        CSRF_SLOT: csrf,
        ITEM_SLOT: item,
    }
    texts, slots_found = _cut(frame)
    pieces = [texts[0]]
    for slot, text in zip(slots_found, texts[1:], strict=True):
        pieces.append(values[slot])
        pieces.append(text)
    return "".join(pieces)


def slots() -> dict[str, str | Markup]:
    """The template variables that leave slots in a frame."""
    return {
        "title_item": TITLE_SLOT,
        "item_html": Markup(ITEM_SLOT),
        "action": ACTION_SLOT,
        "request_path": NEXT_SLOT,
    }
