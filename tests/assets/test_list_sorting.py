"""The equipment list sorted by a column: header links with aria-sort, every item once
in the column's order (ties and missing values included) along the next and previous
links, and the labels of the ticked rows."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.assets.builders import add, added_id

NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
PREV = re.compile(r'<a href="([^"]+)" rel="prev">')
TAGS = re.compile(r"<code>([A-Z]{3}-\d{4}-\d{5})</code>")


@pytest.fixture
def app_config():
    return {"PAGE_SIZE": 2}


@pytest.fixture
def items(tech, cats, creteil):
    """Seven items: serials with ties in their order and two missing, warranties with
    three missing. (tag, serial, warranty end) of each, by id."""
    room = creteil["rooms"][0]
    serials = ["SN-B", None, "SN-A", "SN-C", None, "SN-A0", "SN-B0"]
    ends = ["2030-01-01", "", "2029-06-30", "", "2030-01-01", "", "2028-01-01"]
    found = []
    for serial, end in zip(serials, ends, strict=True):
        asset_id = added_id(
            add(tech, cats, room, serial=serial or "", warranty_end=end, model="Board")
        )
        html = tech.get(f"/equipements/{asset_id}").get_data(as_text=True)
        tag = TAGS.search(html).group(1)
        found.append((asset_id, tag, serial, end or None))
    return found


def _order(items, column: int, descending: bool) -> list[str]:
    key = sorted(items, key=lambda r: (r[column] is None, r[column] or "", r[0]))
    tags = [r[1] for r in key]
    return tags[::-1] if descending else tags


def _walk(client, url: str, link: re.Pattern[str]) -> list[list[str]]:
    pages = []
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(TAGS.findall(html))
        found = link.search(html)
        url = found.group(1).replace("&amp;", "&") if found else ""
        assert len(pages) < 20, "the pager loops"
    return pages


@pytest.mark.parametrize(
    ("sort", "column", "descending"),
    [("serial", 2, False), ("-serial", 2, True), ("warranty", 3, False), ("-warranty", 3, True)],
)
def test_every_item_once_in_the_columns_order_both_ways(tech, items, sort, column, descending):
    expected = _order(items, column, descending)
    forward = _walk(tech, f"/equipements?sort={sort}", NEXT)
    assert [t for page in forward for t in page] == expected
    assert all(len(page) == 2 for page in forward[:-1])
    # From the last page, back along the "previous" links.
    last = tech.get(f"/equipements?sort={sort}&before=0").get_data(as_text=True)
    assert TAGS.findall(last) == expected[-2:]  # the last two, as the key paging reads them
    backward = _walk(tech, f"/equipements?sort={sort}&before=0", PREV)
    assert [t for page in reversed(backward) for t in page] == expected


def test_headers_link_to_the_other_order_and_say_which_is_sorted(tech, items):
    html = tech.get("/equipements?sort=serial&status=delivered").get_data(as_text=True)
    header = re.search(r'<th scope="col" aria-sort="ascending"><a [^>]*href="([^"]+)"', html)
    assert header, "the sorted column has aria-sort"
    args = parse_qs(urlsplit(header.group(1).replace("&amp;", "&")).query)
    assert args == {"sort": ["-serial"], "status": ["delivered"]}  # the filters kept
    assert html.count("aria-sort=") == 1
    # The filter form keeps the order.
    assert '<input type="hidden" name="sort" value="serial">' in html
    descending = tech.get("/equipements?sort=-serial").get_data(as_text=True)
    assert 'aria-sort="descending"' in descending


def test_an_unknown_column_lists_newest_first(tech, items):
    html = tech.get("/equipements?sort=password").get_data(as_text=True)
    assert TAGS.findall(html) == [r[1] for r in reversed(items)][:2]
    assert "aria-sort=" not in html


def test_the_ticked_rows_labels_and_without_ticks_the_filters(tech, items):
    ids = [items[1][0], items[4][0]]
    sent = tech.post(
        "/equipements/lot",
        data={"action": "labels", "ids": [str(i) for i in ids], "next": "/equipements?page=2"},
    )
    assert sent.status_code == 302
    target = urlsplit(sent.location)
    assert target.path == "/etiquettes"
    assert parse_qs(target.query) == {"ids": [",".join(map(str, ids))]}
    page = tech.get(sent.location).get_data(as_text=True)
    assert "2 items selected." in page
    # None ticked: the labels of the list's filters, as its own link, without its paging.
    unticked = tech.post(
        "/equipements/lot",
        data={"action": "labels", "next": "/equipements?q=SN-A&sort=serial&after=3"},
    )
    assert parse_qs(urlsplit(unticked.location).query) == {"q": ["SN-A"]}
    assert "2 items selected." in tech.get(unticked.location).get_data(as_text=True)


def test_the_page_offers_select_all_and_the_ticked_rows_labels(tech, items):
    html = tech.get("/equipements").get_data(as_text=True)
    assert 'data-select-all="ids"' in html
    assert 'value="labels"' in html
    assert "js/select_all.js" in html
