"""Every route of the application, for every role, in and out of scope.

The routes come from ``app.url_map`` and each view's declared access rule, so a route added
later without a rule fails here (and the app refuses to start), and a route whose rule is
not enforced shows up as an unexpected answer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from inventory.api.tokens import WRITE_ACTIONS
from inventory.assets.models import Asset
from inventory.auth import providers as sso_providers
from inventory.auth.models import User
from inventory.auth.sso_models import ProviderKind
from inventory.core.audit import AuditRecord
from inventory.core.jobs import Job
from inventory.core.policy import ROLE_ACTIONS, Role
from inventory.orgs.models import Classroom, Ecole
from inventory.paths import ROOT
from tests.factories import (
    ADMIN,
    ROLES,
    api_token,
    bearer,
    expected_answers,
    fresh,
    is_api,
    login,
    rule_url,
)

# Where identity providers send people back: they answer the provider's redirection
# (refused without it), checked in tests/auth/test_sso.py.
SSO_CALLBACKS = {"sso.callback", "sso.cas_callback"}


def test_every_route_for_every_role(app, access_world, db_session):
    matrix: dict[str, dict[str, str]] = {}
    failures = []
    for role_name in ROLES:
        client = app.test_client()
        if role_name != "anonymous":
            assert login(client, access_world["emails"][role_name]).status_code == 302
        failures += _route_failures(app, client, role_name, access_world, matrix)
    assert not failures, "\n".join(failures)
    _write_matrix(matrix)


def test_every_route_for_roles_signed_in_through_openid_connect(
    app, access_world, db_session, oidc_issuer, monkeypatch
):
    """The same answers for accounts signed in through a real OpenID Connect provider
    (its secret from the environment, as a deployment may give it)."""
    monkeypatch.setenv("SSO_SECRET_MOCK", "s3cret")
    sso_providers.save_provider(
        db_session,
        ADMIN,
        None,
        sso_providers.ProviderFields(
            code="mock",
            kind=ProviderKind.OIDC,
            label="ProConnect",
            server_url=oidc_issuer,
            client_id="socle",
            emails_verified=True,
        ),
    )
    failures = []
    for role_name in ("technicien", "auditeur-circonscription"):
        client = app.test_client()
        email = access_world["emails"][role_name]
        answer = requests.put(f"{oidc_issuer}/users/{role_name}", json={"email": email}, timeout=5)
        assert answer.status_code == 204
        authorize = client.get("/sso/mock/login").location
        back = requests.post(authorize, data={"sub": role_name}, allow_redirects=False, timeout=5)
        assert client.get(back.headers["location"]).location == "/"
        failures += _route_failures(app, client, role_name, access_world, {})
    assert not failures, "\n".join(failures)


def _route_failures(app, client, role_name, access_world, matrix):
    """Every GET route as ``client`` (signed in as ``role_name``) gets it, against what the
    route's rule allows; the answers are noted in ``matrix``."""
    rules = [r for r in app.url_map.iter_rules()]
    get_paths = {r.rule for r in rules if "GET" in r.methods}
    failures = []
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        access = getattr(view, "access_rule", None)
        if rule.endpoint != "static":
            assert access is not None, f"{rule.rule} has no access rule"
        if rule.endpoint in {"auth.logout", "web.set_language"}:
            continue  # they change only the session; checked in their own tests
        if rule.endpoint in SSO_CALLBACKS:
            continue
        if "GET" not in rule.methods and rule.rule in get_paths:
            continue  # a GET of its URL is another rule's, checked with that rule
        wheres = ["in", "out"] if access is not None and access.model else ["in"]
        cells = []
        for where in wheres:
            url = rule_url(rule, access, access_world["objects"], where)
            response = client.get(url)
            expected = expected_answers(role_name, access, "GET", rule, where)
            if response.status_code not in expected:
                failures.append(
                    f"{role_name} GET {url}: {response.status_code}, expected {sorted(expected)}"
                )
            if role_name == "anonymous" and expected == {302}:
                assert response.location.startswith("/login")
            cells.append(str(response.status_code))
            response.close()
        label = f"{'/'.join(sorted(rule.methods - {'HEAD', 'OPTIONS'}))} {rule.rule}"
        matrix.setdefault(label, {})[role_name] = " / ".join(cells)
    return failures


# What a write that reached its view answers to an empty body, when not 428 (it sent no
# version): 422 for a field it requires, 200 when it needs nothing (issuing a label code).
API_WRITES_REACHED = {
    "api.create_asset": 422,
    "api.create_assets": 422,
    "api.change_status": 422,
    "api.update_assets": 422,
    "api.print_labels": 422,
    "api.create_work": 422,
    "api.create_works": 422,
    # The next free address needs nothing: an empty body gets one.
    "api.allocate_address": 201,
    "api.issue_label": 200,
    "api.renew_label": 200,
}


def _api_expected(role_name, access, method, writes, where, endpoint, creates=False):
    """What an API call with this role's token answers: as the pages for reads (404 for
    an action the role lacks or out of scope), 403 for a write with a read-only token,
    428 for a write that reached its view (it sent no version), 422 for a creation that
    reached its service (the empty body misses its first field), or as API_WRITES_REACHED
    says."""
    role = ROLES[role_name][0]
    if method != "GET" and not writes:
        return {403}
    if access.action not in ROLE_ACTIONS[role]:
        return {404}
    if where == "out" and role is not Role.ADMIN and access.model is not None:
        return {404}
    if method == "GET":
        return {200}
    return {422} if creates else {API_WRITES_REACHED.get(endpoint, 428)}


def test_every_api_route_for_every_role_with_a_token(app, access_world, db_session):
    """Every API route and method, with a token of each role (read-write where the role
    may write, else read-only; and a read-only one for every write), in and out of scope."""
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]
    failures = []
    api = app.test_client()
    for role_name, spec in ROLES.items():
        if spec is None:
            continue
        role = spec[0]
        may_write = any(a in ROLE_ACTIONS[role] for a in WRITE_ACTIONS)
        secrets = {False: api_token(app, access_world["emails"][role_name], scope="read")}
        if may_write:
            secrets[True] = api_token(app, access_world["emails"][role_name], scope="write")
        for rule in rules:
            view = app.view_functions[rule.endpoint]
            access = view.access_rule
            if not is_api(rule, access):
                continue
            wheres = ["in", "out"] if access.model else ["in"]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for writes, secret in secrets.items():
                    for where in wheres:
                        url = rule_url(rule, access, access_world["objects"], where)
                        response = api.open(
                            url,
                            method=method,
                            headers=bearer(secret),
                            json={} if method != "GET" else None,
                        )
                        expected = _api_expected(
                            role_name,
                            access,
                            method,
                            writes,
                            where,
                            rule.endpoint,
                            creates=method == "POST" and getattr(view, "api_creates", False),
                        )
                        if response.status_code not in expected:
                            failures.append(
                                f"{role_name} ({'write' if writes else 'read'}) {method} {url}: "
                                f"{response.status_code}, expected {sorted(expected)}"
                            )
                        # A success (200, or 201 for what an empty body creates), else
                        # problem details.
                        assert response.status_code in {200, 201} or (
                            response.mimetype == "application/problem+json"
                        ), url
    assert not failures, "\n".join(failures)


def _write_matrix(matrix):
    out = ROOT / "test-results" / "access-matrix.md"
    out.parent.mkdir(exist_ok=True)
    lines = ["| route | " + " | ".join(ROLES) + " |", "|---" * (len(ROLES) + 1) + "|"]
    for label in sorted(matrix):
        lines.append(f"| `{label}` | " + " | ".join(matrix[label].get(r, "") for r in ROLES) + " |")
    lines.append("\nCells: GET answer for an object in scope / out of scope.")
    Path(out).write_text("\n".join(lines) + "\n")


# The POSTs an auditor may make: asking for an evidence pack, which a job prepares.
ASKS_FOR_A_FILE = {"reports.evidence_collectivite", "reports.evidence_dossier"}


def business_fingerprint(db_session):
    """The business data's size; a job (an evidence pack asked for) is not business data."""
    db_session.expire_all()
    return (
        db_session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.object_type != Job.__tablename__)
        ),
        db_session.scalar(select(func.count()).select_from(Classroom)),
        db_session.scalar(select(func.count()).select_from(User)),
    )


@pytest.mark.parametrize("auditor", ["auditeur-academie", "auditeur-circonscription"])
def test_auditors_change_nothing_even_with_crafted_posts(app, access_world, db_session, auditor):
    client = app.test_client()
    assert login(client, access_world["emails"][auditor]).status_code == 302
    before = business_fingerprint(db_session)
    payload = {
        "name": "Piratée",
        "levels": ["CP"],
        "pupils": "3",
        "email": "x@example.org",
        "role": "admin",
        "kind": "annuaire",
        "active": "y",
    }
    asked = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in {
            "auth.logout",
            "auth.login",
            "api_tokens.create",  # one's own token, not business data (tests/api)
        }:
            continue
        access = getattr(app.view_functions[rule.endpoint], "access_rule", None)
        url = rule_url(rule, access, access_world["objects"], "in")
        response = client.post(url, data=payload)
        if is_api(rule, access):
            # A session never authenticates the API (its tokens' writes: the test below).
            assert response.status_code == 401, url
            continue
        assert response.status_code in {302, 404, 400, 422} or access.action is None, (
            f"{url}: {response.status_code}"
        )
        if rule.endpoint in ASKS_FOR_A_FILE:
            # Asking for an evidence pack (EXPORT): a job prepares it, nothing else changes.
            assert response.status_code == 302, f"{url}: {response.status_code}"
            assert response.location.startswith("/taches/"), url
            asked.append(rule.endpoint)
        elif access is not None and access.action is not None:
            assert response.status_code == 404, f"{url}: {response.status_code}"
    assert set(asked) == ASKS_FOR_A_FILE
    assert business_fingerprint(db_session) == before


def _crafted_api_bodies(objects):
    """For each API write, a well-formed body aimed at the objects out of scope."""
    asset_out, room_out, ecole_out = (objects[m][1] for m in (Asset, Classroom, Ecole))
    room_in = objects[Classroom][0]
    new_item = {"category": "eni", "manufacturer": "Piratée", "model": "X-1", "tag": "PIRATE-1"}
    return {
        "api.update_asset": {"version": 1, "notes": "piraté"},
        "api.create_asset": {**new_item, "classroom_id": room_out},
        "api.create_assets": {"items": [{**new_item, "ecole_id": ecole_out}]},
        "api.change_status": {"status": "retired", "version": 1},
        "api.move_asset": {"classroom_id": room_in, "version": 1},
        "api.update_assets": {"ids": [asset_out], "status": "retired"},
        "api.print_labels": {"asset_ids": [asset_out], "format": "avery-l7160"},
        "api.create_work": {"ecole_id": ecole_out, "kind": "cabling", "title": "Piraté"},
        "api.create_works": {"items": [{"ecole_id": ecole_out, "kind": "wifi", "title": "Piraté"}]},
        "api.update_work": {"title": "Piraté", "version": 1},
    }


@pytest.mark.parametrize("role_name", ["auditeur-academie", "formateur", "technicien"])
def test_api_writes_change_nothing_out_of_reach_even_crafted(
    app, access_world, db_session, role_name
):
    """Every API write, with a well-formed body aimed out of reach: an auditor's token is
    read-only (403), a trainer may not edit equipment (404), a Créteil technician reaches
    nothing of another académie (404, or a 422/report saying so). Nothing changes."""
    objects = access_world["objects"]
    role = ROLES[role_name][0]
    may_write = any(a in ROLE_ACTIONS[role] for a in WRITE_ACTIONS)
    secret = api_token(
        app, access_world["emails"][role_name], scope="write" if may_write else "read"
    )
    bodies = _crafted_api_bodies(objects)
    before = business_fingerprint(db_session)
    asset_out = db_session.get(Asset, objects[Asset][1])
    state = (asset_out.status, asset_out.version, asset_out.classroom_id)
    api = app.test_client()
    tried = set()
    for rule in app.url_map.iter_rules():
        access = getattr(app.view_functions[rule.endpoint], "access_rule", None)
        if not is_api(rule, access):
            continue
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            url = rule_url(rule, access, objects, "out")
            body = bodies.get(rule.endpoint)
            if body is None:
                continue  # the records' writes: their schema-built bodies, in the test below
            response = api.open(url, method=method, headers=bearer(secret), json=body)
            answer = response.status_code
            if not may_write:
                assert answer == 403, f"{method} {url}: {answer}"
            elif access.action not in ROLE_ACTIONS[role] or access.model is not None:
                assert answer == 404, f"{method} {url}: {answer}"
            else:  # a create or a selection: the place or the items are out of reach
                assert answer in {404, 422} or (
                    rule.endpoint == "api.update_assets"
                    and response.get_json()["not_found"] == [objects[Asset][1]]
                ), f"{method} {url}: {answer} {response.get_json()}"
            tried.add(rule.endpoint)
    assert set(bodies) <= tried
    assert business_fingerprint(db_session) == before
    asset_out = fresh(db_session, Asset, objects[Asset][1])
    assert (asset_out.status, asset_out.version, asset_out.classroom_id) == state
    assert db_session.scalar(select(func.count()).select_from(Asset).filter_by(tag="PIRATE-1")) == 0


def _crafted_body(spec, rule, method, version):
    """A body the operation's own schema accepts, carrying the object's current version:
    a route that forgot its policy would save it."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
    operation = spec["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return {}
    name = content["schema"]["$ref"].rsplit("/", 1)[-1]
    body = {}
    for field, prop in spec["components"]["schemas"][name].get("properties", {}).items():
        kind = prop.get("type")
        if prop.get("readOnly"):
            continue
        if "enum" in prop:
            body[field] = prop["enum"][-1]
        elif field == "version":
            body[field] = version
        elif kind == "integer":
            body[field] = 1
        elif kind == "boolean":
            body[field] = True
        elif kind == "array":
            body[field] = []
        elif kind == "string" and prop.get("format") == "date":
            body[field] = "2022-02-01"
        elif kind == "string" and field == "start":
            body[field] = "09:00:00"
        elif kind == "string":
            body[field] = "Piraté"
    return body


def test_api_writes_a_role_may_not_make_change_nothing_even_when_crafted(
    app, access_world, db_session
):
    """With a read-write token of each role that writes something: every API write its role
    may not make, in scope, and every write it may make, out of scope, each with a body its
    schema accepts and the object's current version, answers 404 and changes nothing;
    an auditor's token (read only) gets 403 on every one."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]
    roles = [(name, spec_[0]) for name, spec_ in ROLES.items() if spec_ and spec_[0] != Role.ADMIN]
    secrets = {
        name: api_token(
            app,
            access_world["emails"][name],
            scope="write" if any(a in ROLE_ACTIONS[role] for a in WRITE_ACTIONS) else "read",
        )
        for name, role in roles
    }
    before = business_fingerprint(db_session)  # the tokens made, nothing else may change
    api = app.test_client()
    failures = []
    tried = 0
    for role_name, role in roles:
        may_write = any(a in ROLE_ACTIONS[role] for a in WRITE_ACTIONS)
        secret = secrets[role_name]
        for rule in rules:
            access = app.view_functions[rule.endpoint].access_rule
            if not is_api(rule, access):
                continue
            for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
                allowed = access.action in ROLE_ACTIONS[role]
                wheres = ["out"] if allowed else ["in", "out"]
                if allowed and access.model is None:
                    continue  # a creation the role may make: its own tests
                for where in wheres if access.model else ["in"]:
                    url = rule_url(rule, access, access_world["objects"], where)
                    version = 1
                    if access.model is not None:
                        ident = access_world["objects"][access.model][0 if where == "in" else 1]
                        version = getattr(db_session.get(access.model, ident), "version", 1)
                    body = _crafted_body(spec, rule, method, version)
                    response = api.open(url, method=method, headers=bearer(secret), json=body)
                    tried += 1
                    expected = 404 if may_write else 403
                    if response.status_code != expected:
                        failures.append(
                            f"{role_name} {method} {url} {body}: {response.status_code}, "
                            f"expected {expected}"
                        )
    assert not failures, "\n".join(failures)
    assert tried > 50
    assert business_fingerprint(db_session) == before
