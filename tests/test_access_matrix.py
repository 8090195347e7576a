"""Every route of the application, for every role, in and out of scope.

The routes come from ``app.url_map`` and each view's declared access rule, so a route added
later without a rule fails here (and the app refuses to start), and a route whose rule is
not enforced shows up as an unexpected answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from inventory import ROOT
from inventory.auth.models import User
from inventory.core.audit import AuditRecord
from inventory.core.policy import ROLE_ACTIONS, Role
from inventory.orgs.identifiers import uai_check_letter
from inventory.orgs.models import Circonscription, Classroom, Collectivite, Ecole
from tests.conftest import annuaire_rows, login, to_csv

OTHER_UAI = "0350999" + uai_check_letter("0350999")
ROLES = {
    "anonymous": None,
    "admin": (Role.ADMIN, []),
    "technicien": (Role.TECHNICIEN, [("collectivite", "coll")]),
    "gestionnaire": (Role.GESTIONNAIRE, [("collectivite", "coll")]),
    "auditeur-academie": (Role.AUDITEUR, [("academie", "acad")]),
    "auditeur-circonscription": (Role.AUDITEUR, [("circonscription", "circo")]),
    "formateur": (Role.FORMATEUR, [("circonscription", "circo")]),
}


@pytest.fixture
def world(app, registry, make_user, db_session, tmp_path):
    """Créteil (in scope) and a school of another académie (out of scope for everyone)."""
    header, _ = annuaire_rows(())
    row = [""] * len(header)
    for key, value in {
        "Identifiant_de_l_etablissement": OTHER_UAI,
        "Nom_etablissement": "Ecole de Rennes",
        "Type_etablissement": "Ecole",
        "Statut_public_prive": "Public",
        "Code_commune": "35238",
        "Nom_commune": "Rennes",
        "Code_departement": "035",
        "Code_academie": "14",
        "Libelle_academie": "Rennes",
        "Ecole_elementaire": "1",
        "code_circonscription": "0351234" + uai_check_letter("0351234"),
        "nom_circonscription": "Rennes Nord",
        "SIREN_SIRET": "",
    }.items():
        row[header.index(key)] = value
    path = tmp_path / "other.csv"
    path.write_bytes(to_csv(header, [row]))
    assert (
        "created: 1"
        in app.test_cli_runner().invoke(args=["schools", "import-annuaire", str(path)]).output
    )
    app.test_cli_runner().invoke(args=["schools", "estimate-classrooms"])

    def school(where):
        return db_session.scalar(select(Ecole).where(where).order_by(Ecole.id).limit(1))

    inside = school(Ecole.collectivite_id == registry["collectivites"]["Créteil"])
    outside = school(Ecole.uai == OTHER_UAI)
    refs = {
        "coll": inside.collectivite_id,
        "circo": inside.circonscription_id,
        "acad": inside.departement.academie_id,
    }
    emails = {}
    for name, spec in ROLES.items():
        if spec:
            role, scopes = spec
            emails[name] = make_user(
                role, [(k, refs[v]) for k, v in scopes], email=f"{name}@example.org"
            )
    admin_id = db_session.scalar(select(User.id).filter_by(email="admin@example.org"))

    def room(ecole):
        return db_session.scalar(select(Classroom.id).filter_by(ecole_id=ecole.id).limit(1))

    objects = {
        Ecole: (inside.id, outside.id),
        Classroom: (room(inside), room(outside)),
        Collectivite: (inside.collectivite_id, outside.collectivite_id),
        Circonscription: (inside.circonscription_id, outside.circonscription_id),
        User: (admin_id, admin_id),
    }
    return {"emails": emails, "objects": objects}


def _url(rule, access, objects, where):
    values = {}
    for arg in rule.arguments:
        if access is not None and arg == access.arg:
            inside, outside = objects[access.model]
            values[arg] = inside if where == "in" else outside
        elif arg == "filename":
            values[arg] = "css/socle.css"
        elif arg == "token":
            values[arg] = "not-a-valid-token"
        else:
            raise AssertionError(f"{rule.rule}: no test value for <{arg}>; declare it")
    return rule.build(values, append_unknown=False)[1]


def _expected(role_name, access, method, rule, where):
    if method not in rule.methods:
        return {405}
    if access is None or access.action is None:
        return {200, 302}
    if role_name == "anonymous":
        return {302}
    role = ROLES[role_name][0]
    if access.action not in ROLE_ACTIONS[role]:
        return {404}
    if where == "out" and role is not Role.ADMIN and access.model is not None:
        return {404}
    return {200}


def test_every_route_for_every_role(app, world, db_session):
    rules = [r for r in app.url_map.iter_rules()]
    matrix: dict[str, dict[str, str]] = {}
    failures = []
    for role_name in ROLES:
        client = app.test_client()
        if role_name != "anonymous":
            assert login(client, world["emails"][role_name]).status_code == 302
        for rule in rules:
            view = app.view_functions[rule.endpoint]
            access = getattr(view, "access_rule", None)
            if rule.endpoint != "static":
                assert access is not None, f"{rule.rule} has no access rule"
            if rule.endpoint in {"auth.logout", "web.set_language"}:
                continue  # they change only the session; checked in their own tests
            wheres = ["in", "out"] if access is not None and access.model else ["in"]
            cells = []
            for where in wheres:
                url = _url(rule, access, world["objects"], where)
                response = client.get(url)
                expected = _expected(role_name, access, "GET", rule, where)
                if response.status_code not in expected:
                    failures.append(
                        f"{role_name} GET {url}: {response.status_code}, "
                        f"expected {sorted(expected)}"
                    )
                if role_name == "anonymous" and expected == {302}:
                    assert response.location.startswith("/login")
                cells.append(str(response.status_code))
                response.close()
            label = f"{'/'.join(sorted(rule.methods - {'HEAD', 'OPTIONS'}))} {rule.rule}"
            matrix.setdefault(label, {})[role_name] = " / ".join(cells)
    assert not failures, "\n".join(failures)
    _write_matrix(matrix)


def _write_matrix(matrix):
    out = ROOT / "test-results" / "access-matrix.md"
    out.parent.mkdir(exist_ok=True)
    lines = ["| route | " + " | ".join(ROLES) + " |", "|---" * (len(ROLES) + 1) + "|"]
    for label in sorted(matrix):
        lines.append(f"| `{label}` | " + " | ".join(matrix[label].get(r, "") for r in ROLES) + " |")
    lines.append("\nCells: GET answer for an object in scope / out of scope.")
    Path(out).write_text("\n".join(lines) + "\n")


def business_fingerprint(db_session):
    db_session.expire_all()
    return (
        db_session.scalar(select(func.count()).select_from(AuditRecord)),
        db_session.scalar(select(func.count()).select_from(Classroom)),
        db_session.scalar(select(func.count()).select_from(User)),
    )


@pytest.mark.parametrize("auditor", ["auditeur-academie", "auditeur-circonscription"])
def test_auditors_change_nothing_even_with_crafted_posts(app, world, db_session, auditor):
    client = app.test_client()
    assert login(client, world["emails"][auditor]).status_code == 302
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
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in {"auth.logout", "auth.login"}:
            continue
        access = getattr(app.view_functions[rule.endpoint], "access_rule", None)
        url = _url(rule, access, world["objects"], "in")
        response = client.post(url, data=payload)
        assert response.status_code in {302, 404, 400, 422} or access.action is None, (
            f"{url}: {response.status_code}"
        )
        if access is not None and access.action is not None:
            assert response.status_code == 404, f"{url}: {response.status_code}"
    assert business_fingerprint(db_session) == before
