"""Importers of the ministry's open files into the registry, on the shared framework."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.core.bulk import BulkInsert, Staged
from inventory.core.importing import (
    Column,
    Importer,
    ImportReport,
    Outcome,
    Row,
    RowRejected,
    RowSkipped,
    Table,
    run_import,
)
from inventory.core.text import fold
from inventory.orgs import identifiers as ids
from inventory.orgs.models import (
    Academie,
    Circonscription,
    Collectivite,
    CollectiviteKind,
    Commune,
    Departement,
    Ecole,
    Ownership,
    SchoolStatus,
    collectivite_members,
)
from inventory.orgs.natures import Verdict, classify, school_nature
from inventory.orgs.owners import Registered, plan_owners, provisional_name
from inventory.orgs.services import school_search_text


def _c(name: str, *aliases: str, required: bool = False) -> Column:
    return Column(name, aliases, required)


# What the pre-pass learns of a row, kept in the row under keys no column has.
VERDICT = "_verdict"  # what the row is (natures.Verdict)
INSEE = "_insee"  # the commune code it means (a postal code put right when it can be)
POSTAL_FIX = "_postal_fix"  # the warning of a postal code given as the commune code
SIREN = "_siren"  # a public school's owner SIREN, '' when its SIRET gives none

STATUS_BY_ETAT = {
    "ouvert": SchoolStatus.OPEN,
    "a fermer": SchoolStatus.CLOSING,
    "a ouvrir": SchoolStatus.OPEN,
    "ferme": SchoolStatus.CLOSED,
}


class AnnuaireImporter(Importer):
    """The ministry's 'Annuaire de l'éducation': schools, and circonscriptions when present."""

    columns = (
        _c("uai", "Identifiant_de_l_etablissement", "numero_uai", required=True),
        _c("name", "Nom_etablissement", "appellation_officielle", required=True),
        _c("type", "Type_etablissement"),
        _c("statut", "Statut_public_prive"),
        _c("adresse_1"),
        _c("adresse_2"),
        _c("adresse_3"),
        _c("code_postal"),
        _c("code_commune", required=True),
        _c("nom_commune"),
        _c("code_departement"),
        _c("libelle_departement"),
        _c("code_academie"),
        _c("libelle_academie"),
        _c("code_region"),
        _c("libelle_region"),
        _c("ecole_maternelle"),
        _c("ecole_elementaire"),
        _c("siren_siret"),
        _c("nombre_d_eleves", "nombre_eleves"),
        _c("nom_circonscription"),
        _c("code_circonscription"),
        _c("latitude"),
        _c("longitude"),
        _c("etat"),
        _c("code_nature"),
        _c("libelle_nature"),
        _c("appartenance_education_prioritaire"),
        _c("mail"),
        _c("telephone"),
    )

    def __init__(self, session: Session) -> None:
        self.session = session
        # New rows are written in bulk: lookups below hold ORM objects for the rows that
        # existed before the import and Staged rows for the ones it creates.
        self.bulk = BulkInsert(session)

    # -- lookups, loaded once ------------------------------------------------------------
    def prepare(self, table: Table, report: ImportReport) -> Iterable[tuple[int, Row]]:
        s = self.session
        self.academies: dict[str, Academie | Staged] = {
            a.code: a for a in s.scalars(select(Academie))
        }
        departements = list(s.scalars(select(Departement)))
        self.departements: dict[str, Departement | Staged] = {d.code: d for d in departements}
        self.communes: dict[str, Commune | Staged] = {
            c.insee: c for c in s.scalars(select(Commune))
        }
        circos = list(s.scalars(select(Circonscription)))
        self.circos_by_uai: dict[str, Circonscription | Staged] = {
            c.uai: c for c in circos if c.uai
        }
        dept_codes = {d.id: d.code for d in departements}
        self.circos_by_name: dict[tuple[str, str], Circonscription | Staged] = {
            (dept_codes[c.departement_id], fold(c.name)): c for c in circos
        }
        collectivites = list(s.scalars(select(Collectivite)))
        self.coll_by_siren: dict[str, Collectivite | Staged] = {
            c.siren: c for c in collectivites if c.siren
        }
        insee_of = {c.id: c.insee for c in self.communes.values()}
        self.coll_by_insee: dict[str, Collectivite | Staged] = {
            insee_of[c.commune_id]: c for c in collectivites if c.commune_id
        }
        self.ecoles: dict[str, Ecole | Staged] = {e.uai: e for e in s.scalars(select(Ecole))}
        siren_of = {c.id: c.siren for c in collectivites if c.siren}
        self.member_keys = {
            (siren_of[coll_id], insee_of[commune_id])
            for coll_id, commune_id in s.execute(
                select(collectivite_members.c.collectivite_id, collectivite_members.c.commune_id)
            )
            if coll_id in siren_of
        }
        self.dept_of_prefix: dict[str, str | None] = {}
        self._pre_pass(table, dept_codes)
        return table.rows

    def _pre_pass(self, table: Table, dept_codes: dict[int, str]) -> None:
        """One pass over the whole file before any row is imported: what each row is, the
        commune code it means, and for each SIREN the communes of its schools, so that
        who owns what does not depend on the order of the rows."""
        postal_like: list[Row] = []
        public: list[Row] = []
        # The first row naming each commune: a commune needed before its own row comes
        # (an owner's seat) is created from it.
        self.first_row_of: dict[str, Row] = {}
        self.file_names: dict[str, str] = {}
        # A national file has a few dozen (code, type, label) triples: each read once.
        verdicts: dict[tuple[str, str, str], Verdict] = {}
        for _, row in table.rows:
            what = (row.get("code_nature", ""), row.get("type", ""), row.get("libelle_nature", ""))
            verdict = verdicts.get(what)
            if verdict is None:
                verdict = verdicts[what] = classify(*what)
            row[VERDICT] = verdict  # type: ignore[assignment]
            if verdict.kind == "skip":
                continue
            insee = row.get("code_commune", "").upper()
            row[INSEE] = insee
            if ids.looks_like_postal_code(insee, row.get("code_postal", "")):
                postal_like.append(row)
            elif ids.is_valid_insee(insee):
                self._first_row(insee, row)
            if verdict.kind == "school":
                if fold(row.get("statut", "")).startswith("prive"):
                    row[SIREN] = ""  # a private school's owner is not recorded
                else:
                    public.append(row)
        by_name = self._communes_by_name(table, postal_like, dept_codes) if postal_like else {}
        for row in postal_like:
            given = row[INSEE]
            dept = ids.normalize_departement(
                row.get("code_departement", "") or row.get("uai", "")[:3]
            ) or ids.departement_of_uai(ids.normalize_uai(row.get("uai", "")))
            found = by_name.get((dept or "", fold(row.get("nom_commune", ""))))
            if found and found != given:
                row[INSEE] = found
                row[POSTAL_FIX] = str(
                    _l(
                        "The commune code «%(code)s» is a postal code, not an INSEE code: "
                        "taken as %(name)s (%(insee)s), the commune of that name.",
                        code=given,
                        name=row.get("nom_commune", ""),
                        insee=found,
                    )
                )
            else:
                row[POSTAL_FIX] = str(
                    _l(
                        "The commune code «%(code)s» looks like a postal code, not an INSEE "
                        "code: kept as given; check the commune.",
                        code=given,
                    )
                )
            if ids.is_valid_insee(row[INSEE]):
                self._first_row(row[INSEE], row)
        schools: dict[str, dict[str, int]] = {}
        for row in public:
            siren = ids.siren_from_siret(row.get("siren_siret", ""))
            row[SIREN] = siren or ""
            insee = row[INSEE]
            if siren and ids.is_valid_insee(insee):
                counts = schools.setdefault(siren, {})
                counts[insee] = counts.get(insee, 0) + 1
        insee_of = {c.id: c.insee for c in self.communes.values()}
        members: dict[str, set[str]] = {}
        for siren, insee in self.member_keys:
            members.setdefault(siren, set()).add(insee)
        self.owners = plan_owners(
            schools,
            registered={
                siren: Registered(
                    insee_of.get(c.commune_id) if c.commune_id else None, c.provisional
                )
                for siren, c in self.coll_by_siren.items()
            },
            commune_holders={insee: c.siren for insee, c in self.coll_by_insee.items()},
            members=members,
            known=set(self.communes) | set(self.first_row_of),
        )
        # The SIREN that is each commune, for its schools that give no SIRET.
        self.siren_of_commune = {p.commune: s for s, p in self.owners.items() if p.commune}
        self.settled: dict[str, Collectivite | Staged] = {}

    def _communes_by_name(
        self, table: Table, postal_like: list[Row], dept_codes: dict[int, str]
    ) -> dict[tuple[str, str], str]:
        """(département, folded name) → INSEE code of the communes named like those whose
        code is a postal code: the registry's first, then the file's other rows'."""
        wanted = {row.get("nom_commune", "") for row in postal_like}
        wanted_folded = {fold(name) for name in wanted}
        by_name = {
            (dept_codes[c.departement_id], fold(c.name)): c.insee
            for c in self.communes.values()
            if fold(c.name) in wanted_folded
        }
        for _, row in table.rows:
            name = row.get("nom_commune", "")
            if name not in wanted or not (insee := row.get(INSEE, "")):
                continue
            # Run before any code is put right: a postal-like code is still as given.
            if ids.is_valid_insee(insee) and not ids.looks_like_postal_code(
                insee, row.get("code_postal", "")
            ):
                by_name.setdefault((ids.departement_of_insee(insee), fold(name)), insee)
        return by_name

    def _first_row(self, insee: str, row: Row) -> None:
        if insee not in self.first_row_of:
            self.first_row_of[insee] = row
            self.file_names[insee] = row.get("nom_commune", "") or insee

    def key_of(self, row: Row) -> str:
        return row.get("uai", "")

    # -- one row -------------------------------------------------------------------------
    def import_row(self, row: Row) -> Outcome:
        verdict: Verdict = row[VERDICT]  # type: ignore[assignment]
        if verdict.kind == "skip":
            raise RowSkipped(verdict.reason)
        uai = ids.normalize_uai(row.get("uai", ""))
        if not uai:
            raise RowRejected(_l("The UAI is missing."))
        if not ids.is_valid_uai(uai):
            raise RowRejected(_l("Invalid UAI «%(uai)s».", uai=uai))
        name = row.get("name", "").strip()
        if not name:
            raise RowRejected(_l("The school name is missing."))
        if verdict.kind == "circonscription":
            outcome = self._import_circonscription(uai, name, row)
        else:
            outcome = self._import_school(uai, name, row, verdict.code)
        self._warn_of_codes(uai, row)
        return outcome

    def _warn_of_codes(self, uai: str, row: Row) -> None:
        """Warnings on a row taken: a postal code in the commune field, a commune outside
        the UAI's département, a SIRET whose check digits fail."""
        if fix := row.get(POSTAL_FIX):
            self.warn(fix)
        insee = row[INSEE]
        prefix = uai[:3]
        if prefix not in self.dept_of_prefix:
            self.dept_of_prefix[prefix] = ids.departement_of_uai(uai)
        expected = self.dept_of_prefix[prefix]
        if expected and ids.departement_of_insee(insee) != expected:
            self.warn(
                _l(
                    "The commune %(insee)s is not in the département of the UAI (%(dept)s).",
                    insee=insee,
                    dept=expected,
                )
            )
        siret = row.get("siren_siret", "")
        # A school's SIREN, read by the pre-pass ('' when its SIRET gives none).
        if siret and SIREN in row and not row[SIREN] and not ids.siren_from_siret(siret):
            self.warn(
                _l(
                    "The SIRET «%(siret)s» fails its check (14 digits, Luhn key): not used "
                    "to find the school's owner.",
                    siret=siret,
                )
            )

    def _editable(self, ref: Any, model: type[Any]) -> Any:
        """An object to change: staged values while unwritten, else the ORM object."""
        if isinstance(ref, Staged) and ref.id is not None:
            return self.session.get_one(model, ref.id)
        return ref

    def _id(self, ref: Any) -> int | None:
        """The id of an existing or staged row, writing the staged rows if need be."""
        if ref is None:
            return None
        if ref.id is None:
            self.bulk.flush()
        return ref.id

    def _place(self, row: Row, uai: str) -> tuple[Departement | Staged, Commune | Staged]:
        dept_raw = row.get("code_departement", "") or uai[:3]
        dept_code = ids.normalize_departement(dept_raw)
        if dept_code is None and not row.get("code_departement"):
            dept_code = ids.departement_of_uai(uai)  # Corsica's 620 and 720
        if dept_code is None:
            raise RowRejected(_l("Invalid département code «%(code)s».", code=dept_raw))
        # The commune code as the pre-pass read it (a postal code put right).
        insee = row.get(INSEE) or row.get("code_commune", "").upper()
        if not ids.is_valid_insee(insee):
            raise RowRejected(_l("Invalid INSEE commune code «%(code)s».", code=insee))
        acad_code = row.get("code_academie", "").strip()
        if not acad_code and dept_code not in self.departements:
            raise RowRejected(_l("The académie code is missing."))
        # Nothing has been written so far: the row is valid from here on.
        dept = self.departements.get(dept_code)
        if dept is None:
            acad = self._academie(acad_code.zfill(2), row.get("libelle_academie", ""), row)
            dept = self.bulk.add(
                Departement,
                code=dept_code,
                name=row.get("libelle_departement") or dept_code,
                academie_id=acad,
            )
            self.departements[dept_code] = dept
        elif acad_code.zfill(2) in self.academies:
            self._academie(acad_code.zfill(2), "", row)  # fills an empty region
        commune = self.communes.get(insee)
        if commune is None:
            commune = self.bulk.add(
                Commune, insee=insee, name=row.get("nom_commune") or insee, departement_id=dept
            )
            self.communes[insee] = commune
        return dept, commune

    def _academie(self, code: str, label: str, row: Row) -> Academie | Staged:
        region = row.get("code_region", "").strip() or None
        region_name = row.get("libelle_region", "").strip() or None
        acad = self.academies.get(code)
        if acad is None:
            acad = self.bulk.add(
                Academie, code=code, name=label or code, region_code=region, region_name=region_name
            )
            self.academies[code] = acad
        elif region and not acad.region_code:
            acad = self.academies[code] = self._editable(acad, Academie)
            acad.region_code, acad.region_name = region, region_name
        return acad

    def _import_circonscription(self, uai: str, name: str, row: Row) -> Outcome:
        dept, _ = self._place(row, uai)
        circo = self.circos_by_uai.get(uai) or self.circos_by_name.get((dept.code, fold(name)))
        if circo is None:
            self._new_circonscription(uai, name, dept)
            return Outcome.CREATED
        if (circo.uai, circo.name) == (uai, name):
            return Outcome.UNCHANGED
        circo = self._editable(circo, Circonscription)
        circo.uai, circo.name = uai, name
        self.circos_by_uai[uai] = circo
        return Outcome.UPDATED

    def _new_circonscription(
        self, uai: str | None, name: str, dept: Departement | Staged
    ) -> Circonscription | Staged:
        circo = self.bulk.add(Circonscription, uai=uai, name=name, departement_id=dept)
        if uai:
            self.circos_by_uai[uai] = circo
        self.circos_by_name[(dept.code, fold(name))] = circo
        return circo

    def _circonscription_of(
        self, row: Row, dept: Departement | Staged
    ) -> Circonscription | Staged | None:
        code = ids.normalize_uai(row.get("code_circonscription", ""))
        name = row.get("nom_circonscription", "").strip()
        if code and ids.is_valid_uai(code):
            return self.circos_by_uai.get(code) or self._new_circonscription(
                code, name or code, dept
            )
        if name:
            return self.circos_by_name.get((dept.code, fold(name))) or self._new_circonscription(
                None, name, dept
            )
        return None

    def _values(self, uai: str, name: str, row: Row, code: str) -> dict[str, Any]:
        """Every checked field of a school row; raises before anything is written."""
        pupils_raw = row.get("nombre_d_eleves", "")
        pupils = None
        if pupils_raw:
            try:
                pupils = int(float(pupils_raw.replace(",", ".")))
            except ValueError:
                raise RowRejected(
                    _l("Pupil count «%(value)s» is not a number.", value=pupils_raw)
                ) from None
            if pupils < 0:
                raise RowRejected(_l("Pupil count «%(value)s» is negative.", value=pupils_raw))
        lat = _coordinate(row.get("latitude", ""), 90)
        lon = _coordinate(row.get("longitude", ""), 180)
        postal = row.get("code_postal", "")
        if postal and not (len(postal) == 5 and postal.isdigit()):
            raise RowRejected(_l("Invalid postal code «%(code)s».", code=postal))
        address = ", ".join(
            p for p in (row.get("adresse_1", ""), row.get("adresse_2", "")) if p
        ) or row.get("adresse_3", "")
        priority = row.get("appartenance_education_prioritaire", "").strip().upper() or None
        return {
            "name": name[:200],
            "nature": school_nature(
                code,
                row.get("ecole_maternelle", ""),
                row.get("ecole_elementaire", ""),
                row.get("libelle_nature", ""),
            ),
            "status": STATUS_BY_ETAT.get(fold(row.get("etat", "")), SchoolStatus.OPEN),
            "is_private": fold(row.get("statut", "")).startswith("prive"),
            "address": address[:300] or None,
            "postal_code": postal or None,
            "latitude": lat,
            "longitude": lon,
            "pupils": pupils,
            "priority_education": priority,
            "email": row.get("mail", "")[:200] or None,
            "phone": row.get("telephone", "")[:30] or None,
        }

    def _import_school(self, uai: str, name: str, row: Row, code: str) -> Outcome:
        values = self._values(uai, name, row, code)
        dept, commune = self._place(row, uai)
        circo = self._circonscription_of(row, dept)
        values["search_text"] = school_search_text(uai, name, commune.name, values["postal_code"])
        ecole = self.ecoles.get(uai)
        public = not values["is_private"]
        if ecole is None:
            owner = self._owner(row, commune) if public else None
            ecole = self.bulk.add(
                Ecole,
                uai=uai,
                commune_id=commune,
                departement_id=dept,
                circonscription_id=circo,
                collectivite_id=owner,
                **values,
            )
            if owner is not None:
                self.bulk.add(Ownership, ecole_id=ecole, collectivite_id=owner, since=None)
            self.ecoles[uai] = ecole
            return Outcome.CREATED
        if isinstance(ecole, Staged):
            # The same UAI twice in one file: the later row updates the earlier one.
            if ecole.id is None:
                self.bulk.flush()
            ecole = self.ecoles[uai] = self.session.get_one(Ecole, ecole.id)
        changed = False
        for key, value in values.items():
            if getattr(ecole, key) != value:
                setattr(ecole, key, value)
                changed = True
        for attr, ref in (
            ("commune_id", commune),
            ("departement_id", dept),
            ("circonscription_id", circo),
        ):
            ref_id = self._id(ref)
            if getattr(ecole, attr) != ref_id:
                setattr(ecole, attr, ref_id)
                changed = True
        # The school keeps its owner; what the file says of its SIREN may still name the
        # collectivité better (a provisional name, a new member commune).
        if public and row.get(SIREN) in self.coll_by_siren:
            changed = self._settled_owner(row[SIREN], commune)[1] or changed
        return Outcome.UPDATED if changed else Outcome.UNCHANGED

    # -- owners ------------------------------------------------------------------------
    def _owner(self, row: Row, commune: Commune | Staged) -> Collectivite | Staged:
        """The collectivité that owns a new public school: the body its SIRET names, as
        the whole file shows it (:mod:`inventory.orgs.owners`), else its commune's.

        The owner is only set when a school is created: later moves (a commune joining
        an RPI) are decisions recorded in Socle, which a re-import must not undo.
        """
        siren = row.get(SIREN) or self.siren_of_commune.get(commune.insee)
        if siren:
            return self._settled_owner(siren, commune)[0]
        return self._commune_collectivite(commune, None)

    def _settled_owner(
        self, siren: str, commune: Commune | Staged
    ) -> tuple[Collectivite | Staged, bool]:
        """The collectivité of ``siren``, found, created or named (once per import), and
        whether this row changed it: its identity, or a member commune added."""
        changed = False
        coll = self.settled.get(siren)
        if coll is None:
            coll, changed = self._settle(siren, commune)
            self.settled[siren] = coll
        if coll.kind is not CollectiviteKind.COMMUNE and (siren, commune.insee) not in (
            self.member_keys
        ):
            self.member_keys.add((siren, commune.insee))
            self.bulk.add(collectivite_members, collectivite_id=coll, commune_id=commune)
            changed = True
        return coll, changed

    def _settle(self, siren: str, commune: Commune | Staged) -> tuple[Collectivite | Staged, bool]:
        plan = self.owners[siren]
        coll = self.coll_by_siren.get(siren)
        seat = self._commune_for(plan.commune) if plan.commune else None
        if plan.taken_by:
            self.warn(
                _l(
                    "SIREN %(siren)s would be the commune %(insee)s, whose collectivité has "
                    "another SIREN: registered as an intercommunal body, to be named.",
                    siren=siren,
                    insee=plan.taken_by,
                )
            )
        if seat is not None:
            if coll is None:
                return self._commune_collectivite(seat, siren), False
            if coll.kind is CollectiviteKind.COMMUNE or not coll.provisional:
                return coll, False
            # A provisional body (an earlier import's) that the file shows is one commune.
            coll = self.coll_by_siren[siren] = self._editable(coll, Collectivite)
            coll.kind, coll.name, coll.provisional = CollectiviteKind.COMMUNE, seat.name, False
            coll.commune_id = self._id(seat)
            self.coll_by_insee[seat.insee] = coll
            return coll, True
        name = provisional_name(self._commune_name(insee) for insee in plan.communes)
        if coll is None:
            dept: Departement | Staged | int | None = self.departements.get(plan.departement)
            if dept is None:
                # Its main département's rows come later in the file: the first of its
                # communes there creates it.
                for insee in plan.communes:
                    if ids.departement_of_insee(insee) == plan.departement:
                        self._commune_for(insee)
                        break
                dept = self.departements.get(plan.departement, commune.departement_id)
            coll = self.bulk.add(
                Collectivite,
                kind=CollectiviteKind.EPCI,
                name=name,
                siren=siren,
                commune_id=None,
                departement_id=dept,
                provisional=True,
            )
            self.coll_by_siren[siren] = coll
            return coll, False
        if coll.provisional and coll.name != name:
            coll = self.coll_by_siren[siren] = self._editable(coll, Collectivite)
            coll.name = name
            return coll, True
        return coll, False

    def _commune_collectivite(
        self, commune: Commune | Staged, siren: str | None
    ) -> Collectivite | Staged:
        """The commune's own collectivité, created if need be; given ``siren`` when it
        has none (the plan gives a commune's collectivité no other SIREN)."""
        coll = self.coll_by_insee.get(commune.insee)
        if coll is None:
            coll = self.bulk.add(
                Collectivite,
                kind=CollectiviteKind.COMMUNE,
                name=commune.name,
                siren=siren,
                commune_id=commune,
                departement_id=commune.departement_id,
            )
            self.coll_by_insee[commune.insee] = coll
        elif siren and coll.siren is None:
            coll = self.coll_by_insee[commune.insee] = self._editable(coll, Collectivite)
            coll.siren = siren
        if siren:
            self.coll_by_siren[siren] = coll
        return coll

    def _commune_for(self, insee: str) -> Commune | Staged | None:
        """The commune of an INSEE code, created from its first row in the file when
        that row has not come yet (an owner's seat, say); None if that row is invalid."""
        commune = self.communes.get(insee)
        if commune is None and (source := self.first_row_of.get(insee)) is not None:
            try:
                _, commune = self._place(source, ids.normalize_uai(source.get("uai", "")))
            except RowRejected:
                return None
        return commune

    def _commune_name(self, insee: str) -> str:
        commune = self.communes.get(insee)
        return commune.name if commune is not None else self.file_names.get(insee, insee)

    def finish_batch(self) -> None:
        self.bulk.flush()
        self.session.flush()


def _coordinate(raw: str, limit: int) -> float | None:
    if not raw:
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise RowRejected(_l("Coordinate «%(value)s» is not a number.", value=raw)) from None
    if not math.isfinite(value) or abs(value) > limit:
        raise RowRejected(_l("Coordinate «%(value)s» is out of range.", value=raw))
    return value


def import_annuaire(session: Session, data: bytes, filename: str = "") -> ImportReport:
    """Import an Annuaire de l'éducation file: its first-degree schools (any other row
    skipped with its reason), circonscriptions, communes and the collectivités owning the
    schools. Idempotent."""
    return run_import(AnnuaireImporter(session), data, session=session, filename=filename)
