"""The equipment list at any depth: every item exactly once whichever way one pages, the
bounded count past the cap, and the text search by tag, serial and model."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from inventory.assets import lists
from tests.assets.builders import add, added_id, english, tags_in

NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
PREV = re.compile(r'<a href="([^"]+)" rel="prev">')


def _walk(client, url: str) -> list[list[str]]:
    """The tags of each page, following the "next" links from ``url``."""
    pages = []
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(sorted(tags_in(html)))
        found = NEXT.search(html)
        url = found.group(1).replace("&amp;", "&") if found else ""
        assert len(pages) < 50, "the pager loops"
    return pages


@pytest.fixture
def seven(tech, cats, creteil):
    room = creteil["rooms"][0]
    return [
        added_id(
            add(
                tech,
                cats,
                room,
                serial=f"SN-{n:04d}-LIST",
                model="Board Alpha" if n % 2 else "Board Beta",
            )
        )
        for n in range(7)
    ]


# How the list pages: (query, count cap, search window). A search reads its ids in one
# pass (a window) and cuts the pages from them; other filters count up to the cap and
# seek along the key past it.
PATHS = {
    "search within the cap": ("q=list", 1_000, 20_000),
    "search past the cap, within its window": ("q=list", 3, 10),
    "search past its window": ("q=list", 2, 2),
    "filter within the cap": ("status=delivered", 1_000, 20_000),
    "filter past the cap": ("status=delivered", 3, 20_000),
}


@pytest.fixture
def paths(app, monkeypatch):
    def use(name: str) -> str:
        query, cap, window = PATHS[name]
        monkeypatch.setattr(lists, "LIST_COUNT_CAP", cap)
        monkeypatch.setattr(lists, "LIST_SEARCH_WINDOW", window)
        app.config["PAGE_SIZE"] = 2
        return f"/equipements?{query}"

    return use


@pytest.fixture(params=["technicien", "admin"])
def reader(request, tech, seven, login_as):
    """Who lists: a technician of Créteil; or an administrator, who sees every item, and
    whose search (without another filter) reads the ids from the index alone."""
    return tech if request.param == "technicien" else english(login_as("admin"))


@pytest.mark.parametrize("path", list(PATHS))
def test_paging_yields_each_item_exactly_once(reader, paths, path):
    tech = reader
    url = paths(path)
    pages = _walk(tech, url)
    everything = [t for page in pages for t in page]
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert len(everything) == len(set(everything)) == 7
    # Backwards from the last page, the same items again.
    seen: list[str] = []
    url = f"{url}&before=0"
    while url:
        html = tech.get(url).get_data(as_text=True)
        seen += tags_in(html)
        found = PREV.search(html)
        url = found.group(1).replace("&amp;", "&") if found else ""
        assert len(seen) < 50, "the pager loops"
    assert sorted(seen) == sorted(everything)


@pytest.mark.parametrize("path", list(PATHS))
def test_the_pager_reaches_the_last_page_and_back(tech, seven, paths, path):
    url = paths(path)
    first = tech.get(url).get_data(as_text=True)
    last = tech.get(f"{url}&before=0").get_data(as_text=True)
    assert len(tags_in(last)) == 2  # the last two, next to the end
    assert "First page" in last and 'rel="next"' not in last
    if path in ("search past its window", "filter past the cap"):
        # Past the count, no page numbers: links next to the items shown.
        assert "Last page" in first and 'aria-current="page">1<' not in first
    else:
        fourth = tech.get(f"{url}&page=4").get_data(as_text=True)
        assert 'aria-current="page">1<' in first and 'aria-current="page">4<' in fourth
    # A key that no longer exists, or past every item: back to the first page.
    assert tags_in(tech.get(f"{url}&after=1").get_data(as_text=True)) == tags_in(first)


def test_past_the_cap_the_count_says_more_than(tech, seven, paths):
    html = tech.get(paths("filter past the cap")).get_data(as_text=True)
    assert "Items 1 to 2 of more than 3" in html and "More than 3 items match" in html
    html = tech.get(paths("search past its window")).get_data(as_text=True)
    assert "of more than 2" in html
    # A search whose items all fit in its window is counted exactly, past the cap.
    html = tech.get(paths("search past the cap, within its window")).get_data(as_text=True)
    assert "more than" not in html
    html = tech.get(paths("filter within the cap")).get_data(as_text=True)
    assert "Items 1 to 2 of 7" in html and "more than" not in html


@pytest.fixture
def searches(app):
    """The statements of a request that run the text search (its index or its LIKEs)."""
    from inventory.extensions import db

    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        if " MATCH " in statement or "search_text LIKE" in statement:
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("paging", ["", "&page=3", "&before=0", "&after={}"])
def test_a_search_runs_once_per_request(reader, seven, paths, searches, paging):
    url = paths("search past the cap, within its window") + paging.format(seven[3])
    searches.clear()
    html = reader.get(url).get_data(as_text=True)
    assert tags_in(html) and len(searches) == 1, [q[:300] for q in searches]


def test_search_by_exact_tag_partial_serial_and_model(tech, seven, cats, creteil):
    listing = tech.get("/equipements?q=list").get_data(as_text=True)
    tag = sorted(tags_in(listing))[3]

    def found(q: str) -> set[str]:
        return tags_in(tech.get("/equipements", query_string={"q": q}).get_data(as_text=True))

    assert found(tag) == {tag}
    assert found(tag.lower()) == {tag}
    assert len(found("0003-li")) == 1  # a piece of one serial number
    assert len(found("sn-0003")) == 1
    # Both runs of letters and digits are in every serial ("sn-0003-list"), the word is not.
    assert found("list-0003") == set()
    assert len(found("board alpha")) == 3  # items 1, 3 and 5
    assert len(found("speechi board")) == 7  # maker and model
    assert found("no such thing") == set()
    # The search text follows an edit of the serial.
    room = creteil["rooms"][0]
    added_id(add(tech, cats, room, serial="ZZ-UNIQUE-77", model="Other"))
    assert len(found("unique-77")) == 1


def test_short_words_alone_are_searched_within_a_place(tech, seven, creteil):
    def found(**args) -> set[str]:
        return tags_in(tech.get("/equipements", query_string=args).get_data(as_text=True))

    html = tech.get("/equipements?q=sn").get_data(as_text=True)
    assert "Type at least 3 characters" in html and not tags_in(html)
    assert len(found(q="sn", ecole=creteil["ecole"])) == 7
    assert len(found(q="sn", collectivite=creteil["coll"])) == 7
    assert len(found(q="sn list")) == 7  # a longer word leads, the short one follows


def test_place_filters_offer_the_first_places_and_the_chosen_one(
    tech, seven, creteil, db_session, monkeypatch
):
    from sqlalchemy import select

    from inventory.assets.views import items as views
    from inventory.orgs.models import Ecole

    schools = list(
        db_session.scalars(
            select(Ecole).where(Ecole.collectivite_id == creteil["coll"]).order_by(Ecole.name)
        )
    )
    assert len(schools) > 2
    last = schools[-1]
    monkeypatch.setattr(views, "LIST_CHOICES", 1)
    html = tech.get(f"/equipements?ecole={last.id}").get_data(as_text=True)
    assert f'<option selected value="{last.id}">{last.name} ({last.commune.name})</option>' in html
    assert f'<option value="{schools[0].id}">' in html
    assert f'<option value="{schools[1].id}">' not in html
    assert "Only the first schools are offered" in html
    monkeypatch.setattr(views, "LIST_CHOICES", 1_000)
    html = tech.get("/equipements").get_data(as_text=True)
    assert all(f'<option value="{e.id}">' in html for e in schools)
    assert "Only the first schools are offered" not in html
