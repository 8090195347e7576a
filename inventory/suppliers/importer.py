"""The import of a suppliers' file (CSV or XLSX) into a collectivité's directory, through
``core.importing``: idempotent on the SIRET (a supplier without one is found by its name),
each row saved by the directory's own service."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.core import policy
from inventory.core.importing import (
    Column,
    Importer,
    ImportReport,
    Outcome,
    Row,
    RowRejected,
    run_import,
)
from inventory.core.policy import Action, Subject
from inventory.orgs.models import Collectivite
from inventory.suppliers.directory import SupplierFields, save_supplier
from inventory.suppliers.models import Supplier
from inventory.suppliers.rules import SupplierError

FIELDS = ("name", "siret", "address", "phone", "email", "notes")


class SupplierImporter(Importer):
    columns = (
        Column("name", ("nom", "raison_sociale", "fournisseur", "supplier"), required=True),
        Column("siret", ("numero_siret", "n_siret")),
        Column("address", ("adresse",)),
        Column("postal_code", ("code_postal", "cp")),
        Column("city", ("ville", "commune")),
        Column("phone", ("telephone", "tel")),
        Column("email", ("mail", "courriel", "e_mail")),
        Column("notes", ("remarques", "commentaire")),
    )
    batch_size = 500

    def __init__(self, session: Session, user: Subject, collectivite: Collectivite) -> None:
        if not policy.can(user, Action.EDIT, collectivite, session):
            raise policy.Denied()
        self.session, self.user, self.collectivite = session, user, collectivite

    def key_of(self, row: Row) -> str:
        return row.get("siret") or row.get("name") or ""

    def _fields(self, row: Row) -> SupplierFields:
        address = "\n".join(
            p
            for p in (
                (row.get("address") or "").strip(),
                " ".join(x for x in (row.get("postal_code"), row.get("city")) if x).strip(),
            )
            if p
        )
        try:
            return SupplierFields(
                name=row.get("name") or "",
                siret=row.get("siret"),
                address=address or None,
                phone=row.get("phone"),
                email=row.get("email"),
                notes=row.get("notes"),
            ).check()
        except SupplierError as exc:
            raise RowRejected(exc.message, exc.field) from None

    def _existing(self, fields: SupplierFields) -> Supplier | None:
        mine = select(Supplier).where(Supplier.collectivite_id == self.collectivite.id)
        if fields.siret:
            found = self.session.scalar(mine.where(Supplier.siret == fields.siret))
            if found is not None:
                return found
        found = self.session.scalar(mine.where(func.lower(Supplier.name) == fields.name.lower()))
        if found is not None and found.siret and fields.siret and found.siret != fields.siret:
            raise RowRejected(
                _l("A supplier of this name has another SIRET (%(siret)s).", siret=found.siret),
                "siret",
            )
        return found

    def import_row(self, row: Row) -> Outcome:
        fields = self._fields(row)
        existing = self._existing(fields)
        if existing is not None:
            # An empty cell keeps what the directory holds.
            for name in FIELDS:
                if getattr(fields, name) is None:
                    setattr(fields, name, getattr(existing, name))
            if all(getattr(existing, n) == getattr(fields, n) for n in FIELDS):
                return Outcome.UNCHANGED
        try:
            save_supplier(
                self.session,
                self.user,
                existing,
                fields,
                collectivite=self.collectivite,
                commit=False,
            )
        except SupplierError as exc:
            raise RowRejected(exc.message, exc.field) from None
        self.session.flush()
        return Outcome.CREATED if existing is None else Outcome.UPDATED


def import_suppliers(
    session: Session,
    user: Subject,
    data: bytes,
    filename: str = "",
    *,
    collectivite: Collectivite,
) -> ImportReport:
    """Import a suppliers' file into ``collectivite``'s directory; idempotent."""
    importer: Any = SupplierImporter(session, user, collectivite)
    return run_import(importer, data, session=session, filename=filename)
