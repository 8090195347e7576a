"""Builders the tests share, named in the domain's words and made through the app's own
services, so that a test reads as the steps a user takes. Plain functions, no fixtures: a
test module imports what it needs from here (or asks a conftest.py fixture), never from
another test module (tests/test_architecture.py checks it)."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date, time, timedelta
from typing import Any

import pypdfium2
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from werkzeug.routing.converters import AnyConverter

from inventory.api import webhooks
from inventory.api.models import ApiToken
from inventory.api.webhooks_models import WebhookDelivery, WebhookSubscription
from inventory.assets import catalogue, digital, disposal, lifecycle, socle
from inventory.assets import photos as asset_photos
from inventory.assets import works as asset_works
from inventory.assets.models import (
    Asset,
    AssetPhoto,
    AssetStatus,
    DigitalService,
    Disposal,
    DisposalRoute,
    NetworkWork,
    ServiceKind,
    WorkKind,
)
from inventory.auth import providers as sso_providers
from inventory.auth.models import User
from inventory.auth.sso_models import IdentityProvider, ProviderKind, SsoDomain, SsoRule
from inventory.core import events, saved_filters, storage
from inventory.core.jobs import Job, JobState
from inventory.core.mail import OutboxMessage
from inventory.core.policy import ROLE_ACTIONS, Role, Scope, ScopeKind
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
from inventory.loans import bookings as loan_bookings
from inventory.loans import custody as loan_custody
from inventory.loans import kits as loan_kits
from inventory.loans.models import Booking, BorrowerKind, Kit, Loan
from inventory.network import addresses as network_addresses
from inventory.network import plan as network_plan
from inventory.network.models import IpAddress, Prefix, PrefixRole
from inventory.orgs.identifiers import uai_check_letter
from inventory.orgs.models import (
    Academie,
    Circonscription,
    Classroom,
    Collectivite,
    Departement,
    Ecole,
)
from inventory.suppliers import claims as supplier_claims
from inventory.suppliers import contracts as supplier_contracts
from inventory.suppliers import directory, maintenance, subscriptions
from inventory.suppliers.models import (
    Contract,
    ContractKind,
    MaintenancePlan,
    MaintenanceRecord,
    Supplier,
)
from inventory.training.attachments import add_document as add_training_document
from inventory.training.models import TrainingDocument, TrainingSession
from inventory.training.sessions import SessionFields, plan_session

PASSWORD = "correct-horse-battery-staple"


class Admin:
    """The actor of set-up steps: allowed everything, tied to no account."""

    id = None
    role = Role.ADMIN
    scope = Scope(everything=True)


ADMIN = Admin()


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"email": email, "password": password})


def signed_in(app, make_user, role, scopes=(), email=None):
    """A client signed in as a new account of this role and scopes, and its address."""
    client = app.test_client()
    address = make_user(role, list(scopes), email=email)
    assert login(client, address).status_code == 302
    return client, address


# -- helpdesk ------------------------------------------------------------------------------
UAI = "0940176F"  # a Fresnes school of the sample registry
SERIAL = "SN-SECRET-0042"
SUPPLIER = "Fournisseur Confidentiel SARL"
MAC = "00:1a:2b:3c:4d:5e"
IP = "10.20.30.40"


def build_world(db_session: Any) -> dict[str, Any]:
    """Two interactive screens (one with every private detail filled) and a laptop in the
    first rooms of a Fresnes school, with their label tokens and the first room's."""
    ecole = db_session.scalar(select(Ecole).filter_by(uai=UAI))
    rooms = db_session.scalars(
        select(Classroom).filter_by(ecole_id=ecole.id).order_by(Classroom.id)
    ).all()[:3]
    eni = catalogue.category_by_code(db_session, "eni")
    screen_model = catalogue.get_or_create_model(db_session, "Speechi", "SPE-75", eni)
    laptop_model = catalogue.get_or_create_model(
        db_session,
        "Dell",
        "Latitude 3540",
        catalogue.category_by_code(db_session, "poste_enseignant"),
    )

    def item(model, room, **fields):
        where = lifecycle.Where(ecole.collectivite, ecole, room)
        return lifecycle.create_asset(
            db_session,
            ADMIN,
            where=where,
            model=model,
            status=AssetStatus.IN_SERVICE,
            fields=lifecycle.AssetFields(**fields),
        )

    screen = item(
        screen_model,
        rooms[0],
        serial=SERIAL,
        supplier=SUPPLIER,
        mac=MAC,
        ip=IP,
        price_ht_cents=123456,
        price_ttc_cents=148147,
        purchase_date=date.today() - timedelta(days=100),
        warranty_end=date.today() + timedelta(days=600),
        order_number="CMD-77",
    )
    screen2 = item(screen_model, rooms[1], serial="SN-0002")
    laptop = item(laptop_model, rooms[0], serial="SN-0003")
    toks = tokens.active_tokens(
        db_session, asset_ids=[screen.id, screen2.id, laptop.id], classroom_ids=[rooms[0].id]
    )
    db_session.commit()
    types = {t.code: t.id for t in db_session.scalars(select(ProblemType))}
    return {
        "ecole": ecole,
        "coll": ecole.collectivite_id,
        "rooms": rooms,
        "screen": screen,
        "screen2": screen2,
        "laptop": laptop,
        "token": toks[("asset", screen.id)].token,
        "token2": toks[("asset", screen2.id)].token,
        "laptop_token": toks[("asset", laptop.id)].token,
        "room_token": toks[("classroom", rooms[0].id)].token,
        "types": types,
    }


def report(client, token, problem, description="Le stylet ne répond plus.", **extra):
    data = {"problem": str(problem), "description": description, **extra}
    return client.post(f"/q/{token}", data=data, content_type="multipart/form-data")


def fresh(db_session, model, ident):
    db_session.expire_all()
    return db_session.get(model, ident)


def count(db_session, model, *where) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def outbox(db_session) -> list[OutboxMessage]:
    db_session.expire_all()
    return list(db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def tiny_png() -> bytes:
    """A real 1×1 PNG, made here."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x91\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, as a reader would copy it."""
    pdf = pypdfium2.PdfDocument(data)
    parts = []
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            parts.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        pdf.close()
    return "\n".join(parts)


# -- the access matrix's world: every role, an object of every kind in and out of scope -----
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
    """Créteil (in scope) and a school of another académie (out of scope for everyone): an
    object of every kind on each side, and an account of every role of ROLES. Returns the
    accounts' addresses (``emails``) and the objects' ids (``objects``), which
    ``rule_url`` reads to build each route's address."""
    from tests.conftest import annuaire_rows, to_csv  # conftest imports this module

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

    def disposal_batch(ecole):
        # A second item of the school, retired by a DEEE collection with its certificate.
        category = catalogue.category_by_code(db_session, "eni")
        model = catalogue.get_or_create_model(db_session, "Speechi", "ENI 75", category)
        where = lifecycle.Where(ecole.collectivite, ecole)
        asset = lifecycle.create_asset(db_session, ADMIN, where=where, model=model)
        fields = disposal.DisposalFields(DisposalRoute.DEEE, date.today(), "Ecosystem", "E-1")
        result = disposal.retire_batch(
            db_session,
            ADMIN,
            [asset.id],
            fields,
            certificate=PDF_HEADER,
            directory=storage.of(app).folder("uploads/assets/disposals"),
            today=date.today(),
        )
        return result.disposal.id

    with app.app_context():
        disposals = (disposal_batch(inside), disposal_batch(outside))
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

    # In the application's context, as a report always is: the staff's mail is written in
    # the default language, which needs the app's catalogue.
    with app.app_context():
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

    def tracked_job(ecole):
        # An evidence pack, done: its page, and its file (its owner's: nobody's here, so
        # administrators' only).
        key = f"pack-{ecole.id}.zip"
        storage.of(app).folder("generated/evidence").save(key, b"PK\x05\x06" + b"\0" * 18)
        job = Job(
            kind="reports.evidence",
            state=JobState.DONE,
            params={"collectivite": ecole.collectivite_id, "dossier": None, "locale": "fr"},
            result={"file": key, "name": "preuves.zip", "mimetype": "application/zip"},
            collectivite_id=ecole.collectivite_id,
        )
        db_session.add(job)
        db_session.commit()
        return job.id

    def webhook(ecole):
        # A subscription of the school's collectivité, and one delivery of it (never sent
        # anywhere: the app refuses its loopback address, as private).
        fields = webhooks.SubscriptionFields(
            "GLPI", "http://127.0.0.1:9/hook", (events.TICKET_CREATED,)
        )
        new = webhooks.create_subscription(
            db_session,
            ADMIN,
            {"WEBHOOKS_ALLOW_PRIVATE": True},
            ecole.collectivite,
            fields,
        )
        events.emit(db_session, events.TICKET_CREATED, ecole.collectivite_id, ticket=0)
        db_session.commit()
        delivery = db_session.scalar(
            select(WebhookDelivery.id).filter_by(subscription_id=new.subscription.id)
        )
        return new.subscription.id, delivery

    (hook_in, delivery_in), (hook_out, delivery_out) = map(webhook, (inside, outside))

    def loans_objects(ecole):
        # A classe mobile of one tablet, booked next week, and a laptop lent to a teacher.
        category = catalogue.category_by_code(db_session, "tablette")
        model = catalogue.get_or_create_model(db_session, "Apple", "iPad 10", category)
        where = lifecycle.Where(ecole.collectivite, ecole, None)
        tablet = lifecycle.create_asset(db_session, ADMIN, where=where, model=model)
        kit = loan_kits.create_kit(db_session, ADMIN, ecole, "Classe mobile", [tablet.id])
        day = date.today() + timedelta(days=7)
        ask = loan_bookings.BookingRequest(day, time(9, 0), time(10, 30), "CM1 B", "Mme Martin")
        booking = loan_bookings.book(db_session, ADMIN, kit, ask)[0]
        laptop = lifecycle.create_asset(db_session, ADMIN, where=where, model=model)
        who = loan_custody.Borrower(BorrowerKind.STAFF, staff_name="M. Roux")
        loan = loan_custody.check_out(
            db_session, ADMIN, laptop, who, starts_on=date.today(), due_on=day
        )
        return kit.id, booking.id, loan.id, kit.booking_token

    with app.app_context():  # a booking's refusal would be written in the app's language
        (kit_in, booking_in, loan_in, link_in), (kit_out, booking_out, loan_out, _) = map(
            loans_objects, (inside, outside)
        )

    def supplier_objects(ecole, asset_id):
        # A supplier of the school's collectivité, a contract covering the item, its
        # subscription terms on a digital service, and a planned visit of the item.
        owner = ecole.collectivite
        found = directory.save_supplier(
            db_session,
            ADMIN,
            None,
            directory.SupplierFields(name=f"Fournisseur {ecole.name}", email="sav@example.org"),
            collectivite=owner,
        )
        contract = supplier_contracts.save_contract(
            db_session,
            ADMIN,
            None,
            supplier_contracts.ContractFields(
                ContractKind.MAINTENANCE, "M-1", "Maintenance", date(2026, 1, 1), date(2027, 1, 1)
            ),
            supplier=found,
        )
        subscription = subscriptions.save_subscription(
            db_session,
            ADMIN,
            None,
            fields=digital.ServiceFields(kind=ServiceKind.SOFTWARE, name=f"Licences {ecole.name}"),
            terms=subscriptions.Terms(supplier_id=found.id, seats_bought=30),
            ecole_ids=[ecole.id],
            collectivite=owner,
        )
        plan = maintenance.plan_maintenance(
            db_session,
            ADMIN,
            db_session.get(Asset, asset_id),
            maintenance.PlanFields("Visite annuelle", 12, date(2027, 1, 1)),
        )
        # A warranty claim sent for the item, under warranty to its supplier.
        claimed = db_session.get(Asset, asset_id)
        claimed.warranty_end = date(2099, 1, 1)
        db_session.commit()
        with app.app_context():  # its mail and description in the app's language
            claim = supplier_claims.claim_warranty(
                db_session,
                ADMIN,
                app.config,
                claimed,
                problem="Plus d'image",
                day=date(2026, 1, 5),
                supplier_id=found.id,
            )
        return found.id, contract.id, subscription.service_id, plan.id, claim.id

    (
        (supplier_in, contract_in, subscribed_in, plan_in, claim_in),
        (
            supplier_out,
            contract_out,
            subscribed_out,
            plan_out,
            claim_out,
        ),
    ) = (supplier_objects(inside, asset_in), supplier_objects(outside, asset_out))

    def network(ecole, asset_id):
        # A prefix of the school, and the item's address in it.
        octet = 10 + ecole.id % 200
        prefix = network_plan.add_prefix(
            db_session,
            ADMIN,
            ecole,
            network_plan.PrefixFields(f"10.{octet}.0.0/24", PrefixRole.PEDAGOGIQUE),
        )
        db_session.commit()
        row = network_addresses.allocate_next(
            db_session, ADMIN, prefix.id, who=network_addresses.Holder(asset_id=asset_id)
        )
        return prefix.id, row.id

    (prefix_in, address_in), (prefix_out, address_out) = (
        network(inside, asset_in),
        network(outside, asset_out),
    )
    referentiel = socle.current_referentiel(db_session)
    # An API token of the administrator's (its revocation is answered by owner, not scope).
    api_token(app, emails["admin"], scope="write", name="matrix")
    # A saved filter of the administrator's (answered by owner, like the token).
    filter_id = saved_filters.save_filter(
        db_session,
        db_session.get(User, admin_id),
        list_name="equipment",
        name="matrix",
        query="status=lost",
    ).id
    provider, sso_rule, sso_domain = sign_in_provider(db_session, refs["acad"])
    objects = {
        "token_id": db_session.scalar(select(ApiToken.id).filter_by(name="matrix")),
        # A sign-in provider (CAS: its button leads to its server, with no request made
        # here), one of its rules and an SSO-only domain: administrators' only.
        "code": provider.code,
        IdentityProvider: (provider.id, provider.id),
        SsoRule: (sso_rule.id, sso_rule.id),
        SsoDomain: (sso_domain.id, sso_domain.id),
        "filter_id": filter_id,
        # Digital services with their subscription's terms.
        DigitalService: (subscribed_in, subscribed_out),
        Supplier: (supplier_in, supplier_out),
        Contract: (contract_in, contract_out),
        MaintenancePlan: (plan_in, plan_out),
        MaintenanceRecord: (claim_in, claim_out),
        # Reference data, the same for everyone: the socle référentiel, a requirement, a model.
        "referentiel_id": referentiel.id,
        "requirement_id": referentiel.requirements[0].id,
        "model_id": db_session.scalar(select(Asset.model_id).where(Asset.id == asset_in)),
        PrintJob: (print_job(inside, asset_in), print_job(outside, asset_out)),
        Job: (tracked_job(inside), tracked_job(outside)),
        WebhookSubscription: (hook_in, hook_out),
        WebhookDelivery: (delivery_in, delivery_out),
        TrainingSession: (session_in, session_out),
        Kit: (kit_in, kit_out),
        Booking: (booking_in, booking_out),
        Loan: (loan_in, loan_out),
        TrainingDocument: (session_doc_in, session_doc_out),
        Dossier: (dossier_in, dossier_out),
        Expense: (expense_in, expense_out),
        Payment: (payment_in, payment_out),
        DossierDocument: (doc_in, doc_out),
        FundingScheme: (scheme.id, scheme.id),
        Asset: (asset_in, asset_out),
        Disposal: disposals,
        AssetPhoto: (photo_in, photo_out),
        NetworkWork: (work_in, work_out),
        Prefix: (prefix_in, prefix_out),
        IpAddress: (address_in, address_out),
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
        "link": link_in,  # a kit's public booking link
        # The dashboards' drill-down lists: which figure's list.
        "indicator": "items",
    }
    return {"emails": emails, "objects": objects}


def sign_in_provider(db_session, academie_id):
    """A CAS provider of the académie with a rule that opens auditors' accounts, and an
    email domain that must sign in through a provider."""
    provider = sso_providers.save_provider(
        db_session,
        ADMIN,
        None,
        sso_providers.ProviderFields(
            code="academie",
            kind=ProviderKind.CAS,
            label="Académie",
            server_url="https://cas.example.org/cas",
            allow_jit=True,
        ),
    )
    rule = sso_providers.add_rule(
        db_session,
        ADMIN,
        provider,
        claim=sso_providers.EMAIL_DOMAIN,
        value="ac-example.fr",
        role=Role.AUDITEUR,
        scope_kind=ScopeKind.ACADEMIE,
        ref_id=academie_id,
    )
    domain = sso_providers.require_sso(db_session, ADMIN, "ac-example.fr")
    return provider, rule, domain


def rule_url(rule, access, objects, where):
    """The address of ``rule`` on the object in scope (``where="in"``) or out of it."""
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


def is_api(rule, access):
    """A route of the API proper: a bearer token, never the session, authenticates it."""
    return rule.rule.startswith("/api/v1/") and access is not None and access.action is not None


def expected_answers(role_name, access, method, rule, where):
    """The status codes a role may get from a route, by its declared access rule."""
    if method not in rule.methods:
        return {405}
    if access is None or access.action is None:
        return {200, 302}
    if is_api(rule, access):
        return {401}  # a session cookie, or nothing: the API answers 401
    if role_name == "anonymous":
        return {302}
    role = ROLES[role_name][0]
    if access.action not in ROLE_ACTIONS[role]:
        return {404}
    if where == "out" and role is not Role.ADMIN and access.model is not None:
        return {404}
    if access.own and role is not Role.ADMIN:
        return {404}  # the world's objects are nobody's: administrators' only
    return {200}


# -- API -----------------------------------------------------------------------------------
def api_token(app, email, scope="read", **fields) -> str:
    """A new API token of the account ``email``, made by its service; its secret."""
    from inventory.api import tokens
    from inventory.api.models import TokenScope
    from inventory.auth.models import User
    from inventory.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).filter_by(email=email))
        new = tokens.create_token(
            db.session,
            user,
            name=fields.pop("name", "script"),
            scope=TokenScope(scope),
            expires_at=fields.pop("expires_at", None),
            networks=fields.pop("networks", ""),
        )
        secret = new.secret
        db.session.remove()
    return secret


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


def hash_passwords_cheaply(monkeypatch: Any) -> None:
    """For tests where accounts are not what is checked: hash their passwords cheaply."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    from inventory.auth import services as auth_services

    fast = partial(generate_password_hash, method="pbkdf2:sha256:1000")
    monkeypatch.setattr(auth_services, "generate_password_hash", fast)


class Users(dict):
    """Accounts made on first use: {name: email}; with ``named``, the email is
    ``<name>@example.org`` (for tests that read it back)."""

    def __init__(self, make_user: Any, specs: dict[str, Any], named: bool = False) -> None:
        super().__init__()
        self.make_user, self.specs, self.named = make_user, specs, named

    def __missing__(self, name: str) -> str:
        role, scopes = self.specs[name]
        extra = {"email": f"{name}@example.org"} if self.named else {}
        self[name] = self.make_user(role, scopes, **extra)
        return self[name]
