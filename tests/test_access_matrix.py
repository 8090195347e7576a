"""Every route of the application, for every role, in and out of scope.

The routes come from ``app.url_map`` and each view's declared access rule, so a route added
later without a rule fails here (and the app refuses to start), and a route whose rule is
not enforced shows up as an unexpected answer.
"""

from __future__ import annotations

import io
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.routing.converters import AnyConverter

from inventory.api.models import ApiToken
from inventory.api.tokens import WRITE_ACTIONS
from inventory.assets import catalogue, digital, lifecycle, socle
from inventory.assets import photos as asset_photos
from inventory.assets import works as asset_works
from inventory.assets.models import (
    Asset,
    AssetPhoto,
    DigitalService,
    NetworkWork,
    ServiceKind,
    WorkKind,
)
from inventory.auth.models import User
from inventory.core import storage
from inventory.core.audit import AuditRecord
from inventory.core.jobs import Job, JobState
from inventory.core.policy import ROLE_ACTIONS, Role
from inventory.grants.common import Upload
from inventory.grants.documents import add_document
from inventory.grants.dossiers import (
    DossierFields,
    SchoolCover,
    change_dossier_status,
    create_dossier,
)
from inventory.grants.expenses import ExpenseFields, add_expense
from inventory.grants.links import LinkInput
from inventory.grants.models import (
    Dossier,
    DossierDocument,
    DossierStatus,
    Expense,
    FundingScheme,
    Payment,
    PaymentKind,
)
from inventory.grants.payments import PaymentFields, record_payment
from inventory.grants.schemes import install_presets
from inventory.helpdesk import campaigns, public
from inventory.helpdesk.models import InventoryCampaign, ProblemType, Ticket, TicketPhoto
from inventory.labels import tokens
from inventory.labels.models import PrintJob
from inventory.orgs.identifiers import uai_check_letter
from inventory.orgs.models import (
    Academie,
    Circonscription,
    Classroom,
    Collectivite,
    Departement,
    Ecole,
)
from inventory.paths import ROOT
from inventory.training.attachments import add_document as add_training_document
from inventory.training.models import TrainingDocument, TrainingSession
from inventory.training.sessions import SessionFields, plan_session
from tests.conftest import ADMIN, annuaire_rows, login, to_csv
from tests.factories import api_token, bearer

OTHER_UAI = "0350999" + uai_check_letter("0350999")
PDF_HEADER = b"%PDF-1.4\n%%EOF\n"
PNG_HEADER = b"\x89PNG\r\n\x1a\n"
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

    def equipment(ecole):
        # An item with a photo, and cabling works, in the school's first classroom.
        room_obj = db_session.get(Classroom, room(ecole))
        category = catalogue.category_by_code(db_session, "eni")
        model = catalogue.get_or_create_model(db_session, "Speechi", "ENI 75", category)
        where = lifecycle.Where(ecole.collectivite, ecole, room_obj)
        asset = lifecycle.create_asset(db_session, ADMIN, where=where, model=model)
        photos = storage.of(app).folder("uploads/assets")
        photo = asset_photos.store_photo(db_session, ADMIN, asset, PNG_HEADER + bytes(16), photos)
        fields = asset_works.WorkFields(kind=WorkKind.CABLING, title=f"Câblage {ecole.name}")
        work = asset_works.save_work(
            db_session, ADMIN, None, ecole=ecole, fields=fields, classroom_ids=[room_obj.id]
        )
        return asset.id, photo.id, work.id

    (asset_in, photo_in, work_in), (asset_out, photo_out, work_out) = map(
        equipment, (inside, outside)
    )
    install_presets(db_session)
    scheme = db_session.scalar(select(FundingScheme).filter_by(code="snee-2021"))
    grant_files = storage.of(app).folder("uploads/grants")

    def grant(ecole, asset_id):
        # A signed dossier with an invoice (its file, linked to the item), a payment and a
        # document.
        dossier = create_dossier(
            db_session,
            ADMIN,
            collectivite=ecole.collectivite,
            scheme=scheme,
            fields=DossierFields(title=f"Socle {ecole.name}", convention_max_cents=10**6),
            schools=[SchoolCover(ecole.id, classes=3, pupils=60)],
        )
        for status in ("submitted", "approved", "signed"):
            change_dossier_status(db_session, ADMIN, dossier, DossierStatus(status))
        expense = add_expense(
            db_session,
            ADMIN,
            dossier,
            ExpenseFields(
                "equipement", "Speechi", "F-1", 500_000, 600_000, invoice_date=date(2021, 10, 4)
            ),
            links=[LinkInput("asset", asset_id, 100_000)],
            invoice=Upload("facture.pdf", PDF_HEADER),
            upload_dir=grant_files,
        )
        payment = record_payment(
            db_session,
            ADMIN,
            dossier,
            PaymentFields(
                PaymentKind.ADVANCE, received_on=date(2021, 9, 1), received_cents=100_000
            ),
        )
        document = add_document(
            db_session,
            ADMIN,
            dossier,
            "convention",
            Upload("convention.pdf", PDF_HEADER),
            grant_files,
        )
        return dossier.id, expense.id, payment.id, document.id

    (
        (dossier_in, expense_in, payment_in, doc_in),
        (dossier_out, expense_out, payment_out, doc_out),
    ) = (
        grant(inside, asset_in),
        grant(outside, asset_out),
    )
    training_files = storage.of(app).folder("uploads/training")

    def training_session(ecole):
        # A session of yesterday (planned, so "to record"), with an attachment.
        ts = plan_session(
            db_session,
            ADMIN,
            SessionFields(
                title=f"Atelier ENI {ecole.name}",
                day=date.today() - timedelta(days=1),
                start=time(14, 0),
                duration_minutes=90,
                school_ids=[ecole.id],
                external_trainers=[("Élise Martin", "Canopé")],
            ),
        )
        doc = add_training_document(
            db_session, ADMIN, ts, "support.pdf", PDF_HEADER, training_files
        )
        return ts.id, doc.id

    (session_in, session_doc_in), (session_out, session_doc_out) = map(
        training_session, (inside, outside)
    )

    def helpdesk_objects(ecole, asset_id):
        # A report with a photo on the item (through its label) and an inventory campaign.
        token = tokens.active_token(db_session, asset_id=asset_id)
        db_session.commit()
        target = public.find_target(db_session, token.token)
        photo = io.BytesIO()
        Image.new("RGB", (8, 8)).save(photo, "PNG")
        problem = db_session.scalar(select(ProblemType.id).filter_by(code="casse"))
        outcome = public.report_problem(
            db_session,
            app.config,
            target,
            public.Report(problem, "Écran fissuré", photo=photo.getvalue()),
            photo_dir=storage.of(app).folder("uploads/tickets"),
        )
        campaign = campaigns.start_campaign(db_session, ADMIN, ecole)
        ticket = outcome.ticket
        return token.token, ticket.follow_token, ticket.id, ticket.photos[0].id, campaign.id

    (
        (label_in, follow_in, ticket_in, tphoto_in, campaign_in),
        (_, _, ticket_out, tphoto_out, campaign_out),
    ) = (
        helpdesk_objects(inside, asset_in),
        helpdesk_objects(outside, asset_out),
    )

    def print_job(ecole, asset_id):
        labels = storage.of(app).folder("generated/labels")
        labels.save(f"job-{asset_id}.pdf", b"%PDF-1.4\n%%EOF\n")
        job = PrintJob(
            actor_label="fixture",
            format_code="avery-l7160",
            count=1,
            asset_ids=[asset_id],
            collectivite_id=ecole.collectivite_id,
            file_name=f"job-{asset_id}.pdf",
        )
        db_session.add(job)
        db_session.commit()
        return job.id

    def tracked_job(ecole, print_id):
        job = Job(
            kind="labels.print",
            state=JobState.DONE,
            params={},
            result={"print_id": print_id, "count": 1},
            collectivite_id=ecole.collectivite_id,
        )
        db_session.add(job)
        db_session.commit()
        return job.id

    def digital_service(ecole):
        fields = digital.ServiceFields(kind=ServiceKind.ENT, name=f"ENT {ecole.name}")
        return digital.save_service(
            db_session,
            ADMIN,
            None,
            fields=fields,
            ecole_ids=[ecole.id],
            collectivite=ecole.collectivite,
        ).id

    referentiel = socle.current_referentiel(db_session)
    # An API token of the administrator's (its revocation is answered by owner, not scope).
    api_token(app, emails["admin"], scope="write", name="matrix")
    objects = {
        "token_id": db_session.scalar(select(ApiToken.id).filter_by(name="matrix")),
        DigitalService: (digital_service(inside), digital_service(outside)),
        # Reference data, the same for everyone: the socle référentiel, a requirement, a model.
        "referentiel_id": referentiel.id,
        "requirement_id": referentiel.requirements[0].id,
        "model_id": db_session.scalar(select(Asset.model_id).where(Asset.id == asset_in)),
        PrintJob: (
            print_in := print_job(inside, asset_in),
            print_out := print_job(outside, asset_out),
        ),
        Job: (tracked_job(inside, print_in), tracked_job(outside, print_out)),
        TrainingSession: (session_in, session_out),
        TrainingDocument: (session_doc_in, session_doc_out),
        Dossier: (dossier_in, dossier_out),
        Expense: (expense_in, expense_out),
        Payment: (payment_in, payment_out),
        DossierDocument: (doc_in, doc_out),
        FundingScheme: (scheme.id, scheme.id),
        Asset: (asset_in, asset_out),
        AssetPhoto: (photo_in, photo_out),
        NetworkWork: (work_in, work_out),
        Ecole: (inside.id, outside.id),
        Classroom: (room(inside), room(outside)),
        Collectivite: (inside.collectivite_id, outside.collectivite_id),
        Circonscription: (inside.circonscription_id, outside.circonscription_id),
        Departement: (inside.departement_id, outside.departement_id),
        Academie: (inside.departement.academie_id, outside.departement.academie_id),
        User: (admin_id, admin_id),
        Ticket: (ticket_in, ticket_out),
        TicketPhoto: (tphoto_in, tphoto_out),
        InventoryCampaign: (campaign_in, campaign_out),
        # Public pages reached by a token: a label's, a follow-up link's.
        "token": label_in,
        "follow_token": follow_in,
        # The dashboards' drill-down lists: which figure's list.
        "indicator": "items",
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
        elif isinstance(rule._converters.get(arg), AnyConverter):
            values[arg] = sorted(rule._converters[arg].items)[0]
        elif arg in objects:
            values[arg] = objects[arg]
        elif arg == "token":
            values[arg] = "not-a-valid-token"
        else:
            raise AssertionError(f"{rule.rule}: no test value for <{arg}>; declare it")
    return rule.build(values, append_unknown=False)[1]


def _is_api(rule, access):
    """A route of the API proper: a bearer token, never the session, authenticates it."""
    return rule.rule.startswith("/api/v1/") and access is not None and access.action is not None


def _expected(role_name, access, method, rule, where):
    if method not in rule.methods:
        return {405}
    if access is None or access.action is None:
        return {200, 302}
    if _is_api(rule, access):
        return {401}  # a session cookie, or nothing: the API answers 401
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
    get_paths = {r.rule for r in rules if "GET" in r.methods}
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
            if "GET" not in rule.methods and rule.rule in get_paths:
                continue  # a GET of its URL is another rule's, checked with that rule
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


def _api_expected(role_name, access, method, writes, where):
    """What an API call with this role's token answers: as the pages for reads (404 for
    an action the role lacks or out of scope), 403 for a write with a read-only token,
    428 for a write that reached its view (it sent no version)."""
    role = ROLES[role_name][0]
    if method != "GET" and not writes:
        return {403}
    if access.action not in ROLE_ACTIONS[role]:
        return {404}
    if where == "out" and role is not Role.ADMIN and access.model is not None:
        return {404}
    return {200} if method == "GET" else {428}


def test_every_api_route_for_every_role_with_a_token(app, world, db_session):
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
        secrets = {False: api_token(app, world["emails"][role_name], scope="read")}
        if may_write:
            secrets[True] = api_token(app, world["emails"][role_name], scope="write")
        for rule in rules:
            access = app.view_functions[rule.endpoint].access_rule
            if not _is_api(rule, access):
                continue
            wheres = ["in", "out"] if access.model else ["in"]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for writes, secret in secrets.items():
                    for where in wheres:
                        url = _url(rule, access, world["objects"], where)
                        response = api.open(
                            url,
                            method=method,
                            headers=bearer(secret),
                            json={} if method != "GET" else None,
                        )
                        expected = _api_expected(role_name, access, method, writes, where)
                        if response.status_code not in expected:
                            failures.append(
                                f"{role_name} ({'write' if writes else 'read'}) {method} {url}: "
                                f"{response.status_code}, expected {sorted(expected)}"
                            )
                        assert response.status_code == 200 or (
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
        if "POST" not in rule.methods or rule.endpoint in {
            "auth.logout",
            "auth.login",
            "api_tokens.create",  # one's own token, not business data (tests/api)
        }:
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
