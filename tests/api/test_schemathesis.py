"""Schemathesis against the live app over the whole OpenAPI description: every operation
the description lists (those added later included), with a bounded number of generated
requests each, as a technicien (a read-write token) and as an auditor (read-only). No
answer may be a server error, and every answer must be one the description declares,
with the declared content type and a body matching its schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from inventory.core.policy import Role
from tests.factories import api_token, bearer

# Generated requests per operation and per role: enough to meet every operation with bad
# and good data (derandomized, so each run sends the same), while the suite keeps its time.
EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def app_config():
    # Schemathesis sends many requests with one token quickly: no rate limit here.
    return {"RATELIMIT_ENABLED": False}


def _known_ids(places):
    """Ids that exist, for the path parameters (else nearly every request is a 404)."""
    schools = [places["creteil"]["ecole"], places["fresnes"]["ecole"]]
    assets = places["creteil"]["items"][:5] + places["fresnes"]["items"]
    rooms = [places["creteil"]["room"], places["fresnes"]["room"]]
    return {"ecole_id": schools, "asset_id": assets, "classroom_id": rooms}


def _checker(operation, headers, known, every):
    """A Hypothesis test of one operation: generated requests, each answer checked."""

    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, pick=st.integers(min_value=0, max_value=50))
    def check(case, pick):
        # Half the time, real ids in the path: the operation's own work gets exercised.
        if case.path_parameters and pick % 2 == 0:
            for name in list(case.path_parameters):
                if name.endswith("_id"):
                    ids = known.get(name, every)
                    case.path_parameters[name] = ids[pick % len(ids)]
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    return check


def _run(schema, secret, known):
    failures = []
    every = sorted({i for ids in known.values() for i in ids})
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            _checker(operation, bearer(secret), known, every)()
        except Exception as exc:  # every operation's failure is reported, not the first only
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:3000])
    return failures


@pytest.mark.parametrize(
    ("role", "scopes", "scope"),
    [
        (Role.TECHNICIEN, "collectivite", "write"),
        (Role.AUDITEUR, "academie", "read"),
    ],
)
def test_the_whole_api_answers_as_it_describes(
    app, places, make_user, db_session, role, scopes, scope
):
    from inventory.orgs.models import Ecole

    ecole = db_session.get(Ecole, places["creteil"]["ecole"])
    ref = ecole.collectivite_id if scopes == "collectivite" else ecole.departement.academie_id
    email = make_user(role, [(scopes, ref)])
    secret = api_token(app, email, scope=scope)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = _run(schema, secret, _known_ids(places))
    assert not failures, "\n\n".join(failures)
