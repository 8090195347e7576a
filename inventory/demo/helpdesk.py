"""The demo's tickets: problems reported through the public page of the items' QR labels
(some anonymously, some with a name and address to follow them), then worked by the
technician through every state of the helpdesk, with messages and internal notes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.auth.models import User
from inventory.core import audit
from inventory.helpdesk.models import ProblemType, TicketStatus
from inventory.helpdesk.public import Report, find_target, report_problem
from inventory.helpdesk.tickets import add_message, assign, change_status
from inventory.labels.models import ScanToken
from inventory.web import upload_dir

from .clock import on
from .equipment import Equipment

S = TicketStatus


@dataclass(frozen=True)
class Story:
    kind: str  # what it is reported on: a kind of item of Equipment.by_school, or "room"
    problem: str  # ProblemType.code
    description: str
    reporter: tuple[str, str] | None  # (name, email); None: anonymous
    path: tuple[TicketStatus, ...]  # the states it goes through after "new"
    messages: tuple[tuple[bool, str], ...] = ()  # (internal, body), after the first step


RESOLUTION = "Pièce remplacée sous garantie, testé avec l'enseignante."
STORIES = (
    Story("display", "tactile_stylet", "Le stylet ne répond plus sur la moitié droite.", None, ()),
    Story("room", "wifi", "Le Wi-Fi coupe plusieurs fois par heure dans la classe.", None, ()),
    Story(
        "poste",
        "ne_s_allume_pas",
        "Le portable ne démarre plus depuis ce matin.",
        ("Claire Martin", "claire.martin@ac-creteil.example"),
        (),
    ),
    Story(
        "display",
        "image",
        "L'image est jaune sur tout l'écran.",
        ("Julien Petit", "julien.petit@ac-creteil.example"),
        (S.ACKNOWLEDGED,),
        ((False, "Bien reçu, je passe jeudi matin."),),
    ),
    Story(
        "tablette",
        "charge",
        "Trois tablettes ne chargent plus dans le chariot.",
        None,
        (S.IN_PROGRESS,),
        ((True, "Probablement le bloc d'alimentation du chariot, à tester."),),
    ),
    Story(
        "captation",
        "son",
        "Les élèves n'entendent pas la visio.",
        ("Nadia Benali", "nadia.benali@ac-creteil.example"),
        (S.ACKNOWLEDGED, S.IN_PROGRESS),
        ((False, "Pouvez-vous me dire quel logiciel de visio vous utilisez ?"),),
    ),
    Story(
        "display",
        "ne_s_allume_pas",
        "L'écran reste noir, le voyant clignote en rouge.",
        ("Paul Moreau", "paul.moreau@ac-creteil.example"),
        (S.ACKNOWLEDGED, S.WAITING),
        (
            (True, "Carte mère HS : demande d'intervention garantie Speechi n° 44871."),
            (False, "Le fabricant doit passer sous dix jours ouvrés."),
        ),
    ),
    Story(
        "copieur",
        "reseau",
        "Le copieur n'imprime plus depuis les postes.",
        None,
        (S.IN_PROGRESS, S.WAITING),
        ((True, "Ticket ouvert chez le loueur, en attente du technicien Ricoh."),),
    ),
    Story(
        "poste",
        "logiciel",
        "Impossible d'ouvrir l'ENT depuis le portable.",
        ("Claire Martin", "claire.martin@ac-creteil.example"),
        (S.IN_PROGRESS, S.RESOLVED),
        ((False, "Certificat du proxy réinstallé, l'ENT s'ouvre à nouveau."),),
    ),
    Story(
        "visualiseur",
        "image",
        "Le visualiseur n'est plus reconnu par le portable.",
        None,
        (S.ACKNOWLEDGED, S.RESOLVED),
    ),
    Story(
        "display",
        "tactile_stylet",
        "Le tactile est décalé de deux centimètres.",
        ("Sophie Laurent", "sophie.laurent@ac-creteil.example"),
        (S.IN_PROGRESS, S.RESOLVED, S.CLOSED),
        ((False, "Étalonnage refait avec vous, merci de votre patience."),),
    ),
    Story(
        "borne",
        "reseau",
        "La borne du préau clignote orange.",
        None,
        (S.RESOLVED, S.CLOSED),
    ),
    Story(
        "tablette",
        "casse",
        "Écran de la tablette fissuré après une chute.",
        ("Marc Dubois", "marc.dubois@ac-creteil.example"),
        (S.ACKNOWLEDGED, S.RESOLVED, S.REOPENED),
        ((False, "La vitre neuve se décolle déjà : je rouvre la demande."),),
    ),
)


def _target_token(session: Session, equipment: Equipment, n: int, kind: str) -> str:
    """The QR token of the n-th story's item: its kind, in the n-th equipped school."""
    schools = equipment.schools
    ecole = schools[(n * 5) % len(schools)]
    if kind == "room":
        room = sorted(ecole.classrooms, key=lambda r: (r.position, r.id))[0]
        column, ident = ScanToken.classroom_id, room.id
    else:
        start = (n * 5) % len(schools)
        ids = next(
            found
            for e in schools[start:] + schools[:start]
            if (found := equipment.by_school[e.id].get(kind))
        )
        column, ident = ScanToken.asset_id, ids[n % len(ids)]
    return session.execute(
        select(ScanToken.token).where(column == ident, ScanToken.revoked_at.is_(None))
    ).scalar_one()


def load_tickets(session: Session, tech: User, equipment: Equipment, today: date) -> Iterator[str]:
    config = current_app.config
    photos = upload_dir("tickets")
    codes = dict(session.execute(select(ProblemType.code, ProblemType.id)).all())
    states: dict[str, int] = {}
    for n, story in enumerate(STORIES):
        # A report every two days or so over the last four weeks, each step a day later.
        reported = today - timedelta(days=28 - 2 * n)
        target = find_target(session, _target_token(session, equipment, n, story.kind))
        assert target is not None
        name, email = story.reporter or (None, None)
        report = Report(codes[story.problem], story.description, name=name, email=email)
        with on(reported, 8, 10 + 3 * n):
            ticket = report_problem(session, config, target, report, photo_dir=photos).ticket
        with audit.acting_as(audit.Actor(tech.id, tech.name)):
            if story.path:
                with on(reported, 9, 30):
                    assign(session, tech, ticket, tech.id, version=ticket.version)
            for i, status in enumerate(story.path):
                with on(reported, 10 + i, days=i + 1):
                    change_status(
                        session,
                        config,
                        tech,
                        ticket,
                        status,
                        version=ticket.version,
                        resolution=RESOLUTION if status is S.RESOLVED else None,
                    )
                if i < len(story.messages):
                    internal, body = story.messages[i]
                    with on(reported, 11 + i, days=i + 1):
                        add_message(
                            session,
                            config,
                            tech,
                            ticket,
                            body,
                            internal=internal,
                            version=ticket.version,
                        )
        states[ticket.status.value] = states.get(ticket.status.value, 0) + 1
    shown = ", ".join(f"{k} {v}" for k, v in sorted(states.items()))
    anonymous = sum(1 for s in STORIES if s.reporter is None)
    yield (
        f"Tickets: {len(STORIES)} reported through the items' QR labels "
        f"({anonymous} anonymously): {shown}"
    )
