"""A dossier saved twice at the same instant, through the services on the real database:
two finance officers, each in an app context (so a session and a connection) of their
own, load the same version, then both save it (an edit and an edit, an edit and a status
change). One save wins; the other gets the dossier's conflict, and nothing of it is
written."""

from __future__ import annotations

from functools import partial

from flask import Flask
from sqlalchemy import select

from inventory.extensions import db
from inventory.grants import dossiers as grants
from inventory.grants.common import ConflictError
from inventory.grants.models import Dossier, DossierStatus, FundingScheme
from inventory.grants.schemes import install_presets
from inventory.orgs.models import Collectivite
from tests.concurrently import simultaneously
from tests.conftest import ADMIN

A_UAI, B_UAI = "0940176F", "0940289D"  # two Fresnes schools of the sample registry
ROUNDS = 20


def _edit(title: str, schools: list[int], version: int, dossier: Dossier) -> None:
    grants.update_dossier(
        db.session,
        ADMIN,
        dossier,
        version=version,
        fields=grants.DossierFields(title=title, reference=dossier.reference),
        schools=[grants.SchoolCover(i) for i in schools],
    )


def _submit(version: int, dossier: Dossier) -> None:
    grants.change_dossier_status(
        db.session, ADMIN, dossier, DossierStatus.SUBMITTED, version=version
    )


def _save(app: Flask, dossier_id: int, change) -> str:
    """One officer's save, in an app context of its own: "saved" or "conflict"."""
    with app.app_context():
        dossier = db.session.get(Dossier, dossier_id)
        try:
            change(dossier)
        except ConflictError:
            db.session.rollback()
            return "conflict"
        finally:
            db.session.remove()
        return "saved"


def _now(db_session, dossier_id: int) -> Dossier:
    db_session.expire_all()
    return db_session.get(Dossier, dossier_id)


def _new_dossier(db_session, registry, reference: str = "SNEE-094-1") -> tuple[int, list[int]]:
    install_presets(db_session)
    scheme = db_session.scalar(select(FundingScheme).filter_by(code="snee-2021"))
    fresnes = db_session.get(Collectivite, registry["collectivites"]["Fresnes"])
    schools = [registry["schools"][A_UAI][0], registry["schools"][B_UAI][0]]
    dossier = grants.create_dossier(
        db_session,
        ADMIN,
        collectivite=fresnes,
        scheme=scheme,
        fields=grants.DossierFields(title="Socle numérique Fresnes", reference=reference),
        schools=[grants.SchoolCover(schools[0])],
    )
    return dossier.id, schools


def test_two_edits_of_a_dossier_at_the_same_instant(app, registry, db_session):
    dossier_id, schools = _new_dossier(db_session, registry)
    for round_ in range(ROUNDS):
        version = _now(db_session, dossier_id).version
        mine = (f"Socle numérique, tour {round_} (A)", schools[:1])
        theirs = (f"Socle numérique, tour {round_} (B)", schools)

        results = simultaneously(
            Dossier,
            partial(_save, app, dossier_id, partial(_edit, *mine, version)),
            partial(_save, app, dossier_id, partial(_edit, *theirs, version)),
        )

        assert sorted(results) == ["conflict", "saved"], (round_, results)
        title, covered = (mine, theirs)[results.index("saved")]
        after = _now(db_session, dossier_id)
        # The winner's save whole (title and schools covered), nothing of the other one.
        assert after.title == title
        assert sorted(s.ecole_id for s in after.schools) == sorted(covered)
        assert after.version > version


def test_an_edit_and_a_status_change_at_the_same_instant(app, registry, db_session):
    for round_ in range(ROUNDS):
        dossier_id, schools = _new_dossier(db_session, registry, f"SNEE-094-{round_}")
        version = _now(db_session, dossier_id).version
        title = f"Socle numérique, tour {round_}"

        edited, submitted = simultaneously(
            Dossier,
            partial(_save, app, dossier_id, partial(_edit, title, schools, version)),
            partial(_save, app, dossier_id, partial(_submit, version)),
        )

        assert sorted([edited, submitted]) == ["conflict", "saved"], (round_, edited, submitted)
        after = _now(db_session, dossier_id)
        if edited == "saved":
            assert (after.title, after.status) == (title, DossierStatus.DRAFT)
        else:
            assert (after.title, after.status) == (
                "Socle numérique Fresnes",
                DossierStatus.SUBMITTED,
            )
