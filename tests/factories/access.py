"""The world of the access matrix: one object of each kind in scope and one out of it,
the roles, the URL of each route and the answers each role expects."""

from __future__ import annotations

import io
from datetime import date, time, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from werkzeug.routing.converters import AnyConverter

from inventory.assets import digital, socle
from inventory.assets import services as equip
from inventory.assets.models import (
    Asset,
    AssetPhoto,
    DigitalService,
    NetworkWork,
    ServiceKind,
    WorkKind,
)
from inventory.auth.models import User
from inventory.core.policy import ROLE_ACTIONS, Role
from inventory.grants import services as grants
from inventory.grants.models import (
    Dossier,
    DossierDocument,
    DossierStatus,
    Expense,
    FundingScheme,
    Payment,
    PaymentKind,
)
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
from inventory.training.attachments import add_document as add_training_document
from inventory.training.models import TrainingDocument, TrainingSession
from inventory.training.sessions import SessionFields, plan_session
from tests.factories.registry import ADMIN, annuaire_rows, to_csv

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


def access_world(app, registry, make_user, db_session, tmp_path):
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
        category = equip.category_by_code(db_session, "eni")
        model = equip.get_or_create_model(db_session, "Speechi", "ENI 75", category)
        where = equip.Where(ecole.collectivite, ecole, room_obj)
        asset = equip.create_asset(db_session, ADMIN, where=where, model=model)
        photos = Path(app.instance_path) / "uploads" / "assets"
        photo = equip.store_photo(db_session, ADMIN, asset, PNG_HEADER + bytes(16), photos)
        fields = equip.WorkFields(kind=WorkKind.CABLING, title=f"Câblage {ecole.name}")
        work = equip.save_work(
            db_session, ADMIN, None, ecole=ecole, fields=fields, classroom_ids=[room_obj.id]
        )
        return asset.id, photo.id, work.id

    (asset_in, photo_in, work_in), (asset_out, photo_out, work_out) = map(
        equipment, (inside, outside)
    )
    grants.install_presets(db_session)
    scheme = db_session.scalar(select(FundingScheme).filter_by(code="snee-2021"))
    grant_files = Path(app.instance_path) / "uploads" / "grants"

    def grant(ecole, asset_id):
        # A signed dossier with an invoice (its file, linked to the item), a payment and a
        # document.
        dossier = grants.create_dossier(
            db_session,
            ADMIN,
            collectivite=ecole.collectivite,
            scheme=scheme,
            fields=grants.DossierFields(title=f"Socle {ecole.name}", convention_max_cents=10**6),
            schools=[grants.SchoolCover(ecole.id, classes=3, pupils=60)],
        )
        for status in ("submitted", "approved", "signed"):
            grants.change_dossier_status(db_session, ADMIN, dossier, DossierStatus(status))
        expense = grants.add_expense(
            db_session,
            ADMIN,
            dossier,
            grants.ExpenseFields(
                "equipement", "Speechi", "F-1", 500_000, 600_000, invoice_date=date(2021, 10, 4)
            ),
            links=[grants.LinkInput("asset", asset_id, 100_000)],
            invoice=grants.Upload("facture.pdf", PDF_HEADER),
            upload_dir=grant_files,
        )
        payment = grants.record_payment(
            db_session,
            ADMIN,
            dossier,
            grants.PaymentFields(
                PaymentKind.ADVANCE, received_on=date(2021, 9, 1), received_cents=100_000
            ),
        )
        document = grants.add_document(
            db_session,
            ADMIN,
            dossier,
            "convention",
            grants.Upload("convention.pdf", PDF_HEADER),
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
    training_files = Path(app.instance_path) / "uploads" / "training"

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
            photo_dir=Path(app.instance_path) / "uploads" / "tickets",
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
        folder = Path(app.instance_path) / "labels"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"job-{asset_id}.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
        job = PrintJob(
            actor_label="fixture",
            format_code="avery-l7160",
            count=1,
            asset_ids=[asset_id],
            collectivite_id=ecole.collectivite_id,
            state="done",
            file_name=f"job-{asset_id}.pdf",
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
    objects = {
        DigitalService: (digital_service(inside), digital_service(outside)),
        # Reference data, the same for everyone: the socle référentiel, a requirement, a model.
        "referentiel_id": referentiel.id,
        "requirement_id": referentiel.requirements[0].id,
        "model_id": db_session.scalar(select(Asset.model_id).where(Asset.id == asset_in)),
        PrintJob: (print_job(inside, asset_in), print_job(outside, asset_out)),
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


def route_url(rule, access, objects, where):
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


def expected_statuses(role_name, access, method, rule, where):
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
