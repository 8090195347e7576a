"""What the templates' source must hold, whatever page renders them."""

from __future__ import annotations

import re

from inventory.paths import ROOT

TITLE = re.compile(r"{%-?\s*block title\s*-?%}(.*?){%-?\s*endblock", re.S)


def test_page_titles_are_plain_text() -> None:
    """A page's <title> is what a screen reader and a browser tab say first: text only,
    never markup pasted into the block by mistake."""
    wrong = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for title in TITLE.findall(path.read_text(encoding="utf-8")):
            if "<" in title:
                wrong.append(f"{path.relative_to(ROOT)}: {title.strip()[:60]}")
    assert wrong == []
