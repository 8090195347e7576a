"""Reading a scan token (labels.tokens.read_token), the one reader of the scan page, the
reports, the per-label limit and the inventory campaigns: whatever a scanner or a person
gives, the token it carries or nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from inventory.labels import tokens
from inventory.orgs.models import Classroom

token_text = st.text(alphabet=tokens.ALPHABET, min_size=tokens.TOKEN_LENGTH, max_size=16)


@given(token_text, st.sampled_from([str.lower, str.upper, lambda s: s]))
def test_a_token_is_read_in_any_case_alone_or_in_its_label_url(token, case):
    assert tokens.read_token(case(token)) == token
    assert tokens.read_token(f"  {case(token)}\n") == token  # as a scanner types it
    for url in (
        tokens.scan_url("https://socle.example.fr", token),  # the compact upper-case form
        tokens.scan_url("https://example.fr/socle", token),
        f"/q/{case(token)}",
        f"https://socle.example.fr/q/{case(token)}?utm=1#x",
    ):
        assert tokens.read_token(url) == token, url


@given(st.text(max_size=40))
def test_anything_else_is_no_token(value):
    found = tokens.read_token(value)
    assert found is None or (
        len(found) == tokens.TOKEN_LENGTH and set(found) <= set(tokens.ALPHABET)
    )


def test_what_cannot_be_a_token_is_refused_before_any_query():
    good = "0123456789ABCDEF"
    assert tokens.read_token(good) == good
    for bad in (
        "",
        good[:-1],
        good + "G",
        "0123456789ABCDEI",
        "0123456789ABCDEO",
        "/q/",
        "NEU-2025-00001",
    ):
        assert tokens.read_token(bad) is None, bad


def test_find_loads_the_token_a_value_carries(registry, db_session):
    room = db_session.scalar(select(Classroom).limit(1))
    token = tokens.active_token(db_session, classroom_id=room.id)
    assert tokens.find(db_session, f"https://x.fr/Q/{token.token.lower()}") is token
    assert tokens.find(db_session, "not a token") is None
