"""The rules that open accounts, and how a provider's answer reads, as properties."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from inventory.auth import cas
from inventory.auth.identities import SignInFailure, claims_from, matching_rules
from inventory.auth.providers import EMAIL_DOMAIN
from inventory.core.policy import Role, ScopeKind
from tests.servers import CAS_FAILURE, CAS_SUCCESS

WORD = st.text("abcdefghij0123456789", min_size=1, max_size=6)
ROLES = st.sampled_from([Role.TECHNICIEN, Role.AUDITEUR, Role.FORMATEUR])


def _provider(rules=(), **fields):
    base = {"claim_email": "email", "claim_name": "name", "emails_verified": False}
    return SimpleNamespace(rules=list(rules), **{**base, **fields})


@st.composite
def rules_and_claims(draw):
    claims = draw(st.dictionaries(st.sampled_from(["siret", "ou", "uid"]), WORD, max_size=3))
    domain = draw(WORD) + ".fr"
    rules = [
        SimpleNamespace(
            claim=draw(st.sampled_from(["siret", "ou", "uid", EMAIL_DOMAIN])),
            value=draw(st.one_of(WORD, st.just(domain))),
            role=draw(ROLES),
            scope_kind=ScopeKind.ACADEMIE,
            ref_id=draw(st.integers(1, 5)),
        )
        for _ in range(draw(st.integers(0, 5)))
    ]
    email = f"{draw(WORD)}@{draw(st.sampled_from([domain, domain.upper(), 'other.org']))}"
    return rules, {**claims, "email": email}


@given(rules_and_claims())
def test_only_rules_a_person_meets_count_and_they_give_one_role(case):
    rules, values = case
    claims = claims_from(_provider(rules), "sub-1", values)
    met = matching_rules(_provider(rules), claims)
    assert len({r.role for r in met}) <= 1
    for rule in rules:
        if rule.claim == EMAIL_DOMAIN:
            meets = claims.email.rpartition("@")[2] == rule.value
        else:
            meets = values.get(rule.claim) == rule.value
        if not meets:
            assert rule not in met
        elif met and rule.role is met[0].role:
            assert rule in met
    # The first rule met decides the role.
    first = next((r for r in rules if r in met), None)
    assert first is None or first.role is met[0].role


@given(
    st.dictionaries(
        st.sampled_from(["email", "email_verified", "name"]), st.one_of(WORD, st.booleans())
    )
)
def test_an_email_is_verified_only_when_the_provider_or_the_token_says_so(values):
    claims = claims_from(_provider(), "sub", values)
    assert claims.email_verified == (bool(claims.email) and values.get("email_verified") is True)
    trusted = claims_from(_provider(emails_verified=True), "sub", values)
    assert trusted.email_verified == bool(trusted.email)


@given(WORD, WORD)
def test_a_cas_answer_reads_its_user_and_attributes_or_fails(user, ticket):
    provider = _provider(claim_email="mail", claim_name="displayName")
    text = CAS_SUCCESS.format(user=user, mail=f"{user}@AC-Creteil.fr", name="Jean Dupont")
    claims = cas.parse_response(provider, text)
    assert claims.subject == user and claims.email == f"{user}@ac-creteil.fr"
    assert claims.values["groups"] == ["ien", "circonscription"]
    for broken in (CAS_FAILURE.format(ticket=ticket), "<not-xml", "<a/>"):
        try:
            cas.parse_response(provider, broken)
        except SignInFailure as failure:
            assert failure.reason in {"expired", "invalid"}
        else:
            raise AssertionError(broken)
