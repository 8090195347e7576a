"""Pages of a list sorted by a column (core.sorting + paginate_sorted), on the real
database: for any values, ties and missing ones included, any page size and either
direction, paging forward from the first page, backward from the last, or by number
gives every row exactly once, in the order of the key (missing last, value, id)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from inventory.assets.models import EquipmentCategory, EquipmentModel, Manufacturer
from inventory.core.pagination import KeyedPage, paginate_sorted
from inventory.core.sorting import SortSpec

# A column of few distinct values (ties) and NULLs: a model's capabilities.
SPEC = SortSpec(
    columns={"capabilities": EquipmentModel.capabilities, "name": EquipmentModel.name},
    id=EquipmentModel.id,
)
VALUES = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))


@pytest.fixture
def maker(db_session) -> dict[str, int]:
    manufacturer = Manufacturer(name="Fabricant de test")
    db_session.add(manufacturer)
    db_session.commit()
    category = db_session.scalar(select(EquipmentCategory.id).order_by(EquipmentCategory.id))
    return {"manufacturer": manufacturer.id, "category": category}


def _rows(db_session, maker, values: list[str | None]) -> list[tuple[str | None, int]]:
    db_session.execute(delete(EquipmentModel))
    models = [
        EquipmentModel(
            manufacturer_id=maker["manufacturer"],
            category_id=maker["category"],
            name=f"Modèle {n:02d}",
            capabilities=value,
        )
        for n, value in enumerate(values)
    ]
    db_session.add_all(models)
    db_session.commit()
    return [(m.capabilities, m.id) for m in models]


def _expected(rows: list[tuple[str | None, int]], descending: bool) -> list[int]:
    ordered = sorted(rows, key=lambda r: (r[0] is None, r[0] or "", r[1]))
    ids = [i for _, i in ordered]
    return ids[::-1] if descending else ids


def _page(db_session, sort, per_page: int, cap: int, **where: Any) -> KeyedPage[Any]:
    return paginate_sorted(
        db_session,
        select(EquipmentModel),
        select(EquipmentModel.id),
        sort,
        per_page=per_page,
        cap=cap,
        **where,
    )


def _ids(page: KeyedPage[Any]) -> list[int]:
    return [m.id for m in page.items]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.lists(VALUES, max_size=18),
    per_page=st.integers(min_value=1, max_value=5),
    descending=st.booleans(),
    cap=st.sampled_from([4, 1000]),
)
def test_every_row_once_in_key_order_whichever_way_one_pages(
    db_session, maker, values, per_page, descending, cap
):
    rows = _rows(db_session, maker, values)
    expected = _expected(rows, descending)
    sort = SPEC.read("-capabilities" if descending else "capabilities")
    assert sort is not None

    # Forward, next to the last row of each page.
    page = _page(db_session, sort, per_page, cap)
    forward = _ids(page)
    while page.has_next:
        page = _page(db_session, sort, per_page, cap, after=page.last_key)
        assert page.items, "a next page with no row"
        forward += _ids(page)
        if page.first_index:
            assert expected[page.first_index - 1] == page.items[0].id
        assert len(forward) <= len(expected), "a row repeated"
    assert forward == expected

    # Backward, from the last page, next to the first row of each page.
    page = _page(db_session, sort, per_page, cap, before=0)
    backward = _ids(page)
    while page.has_prev:
        page = _page(db_session, sort, per_page, cap, before=page.first_key)
        assert page.items, "a previous page with no row"
        backward = _ids(page) + backward
        assert len(backward) <= len(expected), "a row repeated"
    assert backward == expected

    # By number, while the count is exact.
    if len(expected) <= cap:
        numbered: list[int] = []
        for n in range(1, max(1, -(-len(expected) // per_page)) + 1):
            numbered += _ids(_page(db_session, sort, per_page, cap, page=n))
        assert numbered == expected


def test_a_row_gone_sends_back_to_the_first_page(db_session, maker):
    rows = _rows(db_session, maker, ["b", None, "a", "b", None])
    sort = SPEC.read("capabilities")
    page = _page(db_session, sort, 2, 1000, after=999_999)
    assert _ids(page) == _expected(rows, False)[:2]
    assert page.first_index == 1


def test_an_unknown_column_keeps_the_lists_own_order():
    assert SPEC.read("password") is None
    assert SPEC.read("") is None
    assert SortSpec(SPEC.columns, SPEC.id, default="-name").read(None).arg == "-name"
