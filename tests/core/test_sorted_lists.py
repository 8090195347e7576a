"""The other lists sorted through their declared specs (works, tickets, schools,
dossiers, training sessions): the header says which column is sorted, the rows follow
its order with missing values last, and the numbered pages, in a total order, neither
repeat nor skip a row."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from inventory.assets import works as asset_works
from inventory.assets.models import WorkKind
from inventory.grants.dossiers import DossierFields, SchoolCover, create_dossier
from inventory.grants.models import FundingScheme
from inventory.grants.schemes import install_presets
from inventory.orgs.models import Ecole
from inventory.training.sessions import SessionFields, plan_session
from tests.factories import ADMIN, UAI, build_world, login, report


@pytest.fixture
def app_config():
    return {"PAGE_SIZE": 4}


@pytest.fixture
def admin(app, make_user):
    client = app.test_client()
    assert login(client, make_user("admin")).status_code == 302
    return client


def _pages(client, path: str, pattern: str) -> list[list[str]]:
    """The rows (``pattern``'s first group) of each numbered page of ``path``."""
    pages, n = [], 1
    while True:
        html = client.get(f"{path}&page={n}").get_data(as_text=True)
        pages.append(re.findall(pattern, html))
        if 'rel="next"' not in html:
            return pages
        n += 1
        assert n < 100, "the pager loops"


def test_schools_by_uai_both_ways_every_school_once(admin, registry, db_session):
    every = sorted(db_session.scalars(select(Ecole.uai)))
    row = r"<td><code>(\d{7}[A-Z])</code></td>"
    ascending = [u for page in _pages(admin, "/ecoles?sort=uai", row) for u in page]
    assert ascending == every
    descending = [u for page in _pages(admin, "/ecoles?sort=-uai", row) for u in page]
    assert descending == every[::-1]
    html = admin.get("/ecoles?sort=-uai").get_data(as_text=True)
    assert re.search(
        r'<th scope="col" aria-sort="descending"><a [^>]*href="/ecoles\?sort=uai"', html
    )
    # Without a sort, the list's own order: by name, and its header says so.
    assert 'aria-sort="ascending"><a class="sort-link" href="/ecoles?sort=-name"' in admin.get(
        "/ecoles"
    ).get_data(as_text=True)


def test_schools_by_commune_ties_broken_the_same_on_every_page(admin, registry, db_session):
    row = r'<a href="/ecoles/(\d+)">'
    pages = _pages(admin, "/ecoles?sort=commune", row)
    ids = [int(i) for page in pages for i in page]
    assert len(ids) == len(set(ids)) == len(db_session.scalars(select(Ecole.id)).all())
    communes = {e.id: e.commune.name for e in db_session.scalars(select(Ecole))}
    listed = [communes[i] for i in ids]
    # Grouped by commune, in one order (the engine's collation), ids ascending within.
    groups = list(dict.fromkeys(listed))
    assert listed == [c for c in groups for _ in range(listed.count(c))]
    for commune in groups:
        within = [i for i in ids if communes[i] == commune]
        assert within == sorted(within)


def test_works_by_quote_missing_last(admin, registry, db_session):
    ecole = db_session.scalar(select(Ecole).filter_by(uai=UAI))
    quotes = [None, 50_000, 20_000, None, 20_000]
    made = [
        asset_works.save_work(
            db_session,
            ADMIN,
            None,
            ecole=ecole,
            fields=asset_works.WorkFields(
                kind=WorkKind.CABLING, title=f"Câblage {n}", quote_cents=quote
            ),
            classroom_ids=[],
        ).id
        for n, quote in enumerate(quotes)
    ]
    row = r'<a href="/travaux/(\d+)">'
    listed = [int(i) for page in _pages(admin, "/travaux?sort=quote", row) for i in page]
    by_quote = sorted(zip(quotes, made, strict=True), key=lambda q: (q[0] is None, q[0] or 0, q[1]))
    assert listed == [i for _q, i in by_quote]
    listed = [int(i) for page in _pages(admin, "/travaux?sort=-quote", row) for i in page]
    assert listed == [i for _q, i in reversed(by_quote)]


def test_tickets_by_number_and_by_reports(admin, registry, db_session, app):
    world = build_world(db_session)
    public = app.test_client()
    for token in (world["token"], world["token2"], world["laptop_token"]):
        assert report(public, token, world["types"]["casse"]).status_code in {200, 302}
    row = r'<a href="/tickets/(\d+)">#'
    listed = [int(i) for page in _pages(admin, "/tickets?sort=-ticket", row) for i in page]
    assert listed == sorted(listed, reverse=True) and len(listed) == 3
    html = admin.get("/tickets?sort=-ticket").get_data(as_text=True)
    assert 'aria-sort="descending"' in html
    # The filter form keeps the order.
    assert '<input type="hidden" name="sort" value="-ticket">' in html


def test_dossiers_by_title_and_training_sessions_by_date(admin, registry, db_session):
    ecole = db_session.scalar(select(Ecole).filter_by(uai=UAI))
    install_presets(db_session)
    scheme = db_session.scalar(select(FundingScheme).filter_by(code="snee-2021"))
    titles = ["Socle B", "Socle A", "Socle C", "Socle A"]
    made = [
        create_dossier(
            db_session,
            ADMIN,
            collectivite=ecole.collectivite,
            scheme=scheme,
            fields=DossierFields(title=title, convention_max_cents=10**6),
            schools=[SchoolCover(ecole.id, classes=3, pupils=60)],
        ).id
        for title in titles
    ]
    row = r'<a href="/subventions/(\d+)">'
    listed = [int(i) for page in _pages(admin, "/subventions?sort=-dossier", row) for i in page]
    by_title = sorted(zip(titles, made, strict=True))
    assert listed == [i for _t, i in reversed(by_title)]

    days = [3, 1, 2, 1]
    sessions = [
        plan_session(
            db_session,
            ADMIN,
            SessionFields(
                title=f"Atelier {n}",
                day=date.today() + timedelta(days=day),
                start=time(14, 0),
                duration_minutes=60,
                school_ids=[ecole.id],
                external_trainers=[("Élise Martin", "Canopé")],
            ),
        ).id
        for n, day in enumerate(days)
    ]
    row = r'<a href="/accompagnement/(\d+)">'
    listed = [int(i) for page in _pages(admin, "/accompagnement?sort=date", row) for i in page]
    by_day = sorted(zip(days, sessions, strict=True))
    assert listed == [i for _d, i in by_day]


def test_a_column_never_null_is_ordered_by_its_index_alone(app):
    """The school list by name reads ix_ecoles_name_id in order (a deep page sorts
    nothing); the commune's name, a subquery that may find nothing, keeps its NULLs last."""
    from inventory.orgs.services import SCHOOL_SORT

    by_name = [str(c) for c in SCHOOL_SORT.read("name").order_by()]
    assert by_name == ["ecoles.name ASC", "ecoles.id ASC"], by_name
    assert [str(c) for c in SCHOOL_SORT.read("-uai").order_by()] == [
        "ecoles.uai DESC",
        "ecoles.id DESC",
    ]
    by_commune = SCHOOL_SORT.read("commune").order_by()
    assert len(by_commune) == 3 and "IS NULL" in str(by_commune[0])
