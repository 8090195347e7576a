"""Grant rules and writes: schemes, dossiers, expenses split and linked to items, payments,
documents, the aid of a dossier with its breakdown, and the reconciliation lists.

Every function takes the session and the acting user. Writes check
``policy.can(user, Action.FINANCE, obj, session)`` (schemes: ``Action.ADMIN``); reads go
through ``policy.visible``. A rule that refuses a change raises :class:`GrantError`
(translated message, and the form field it concerns); nothing is saved then.
"""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from flask_babel import LazyString, format_date, format_decimal, get_locale, lazy_pgettext, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from inventory.assets.lifecycle import STATUS_LABELS as ASSET_STATUS_LABELS
from inventory.assets.models import (
    Asset,
    AssetStatus,
    EquipmentModel,
    NetworkWork,
    WorkStatus,
)
from inventory.assets.socle import target_clause
from inventory.assets.works import WORK_KIND_LABELS, WORK_STATUS_LABELS
from inventory.changelog.services import history_of
from inventory.core import errors, policy, uploads
from inventory.core.audit import AuditRecord
from inventory.core.errors import DomainError
from inventory.core.pagination import Page, paginate
from inventory.core.policy import Action, Subject
from inventory.grants import referentiels
from inventory.grants.aid import (
    DATE_KEYS,
    AidResult,
    CapBasis,
    DateProblem,
    SchemeRules,
    SchoolFacts,
    Spending,
    Step,
    compute_aid,
)
from inventory.grants.models import (
    DOSSIER_TRANSITIONS,
    Dossier,
    DossierDocument,
    DossierSchool,
    DossierStatus,
    Expense,
    ExpenseAllocation,
    FundingLink,
    FundingScheme,
    Payment,
    PaymentKind,
)
from inventory.grants.presets import PRESETS
from inventory.orgs.models import Classroom, Collectivite, Ecole


class GrantError(DomainError):
    pass


class ConflictError(GrantError, errors.ConflictError):
    """Someone else saved the dossier since it was loaded."""


# The programme's words for a dossier's steps (French: brouillon, déposé, retenu, non retenu,
# convention signée, partiellement versé, soldé, clôturé).
STATUS_LABELS = {
    DossierStatus.DRAFT: lazy_pgettext("dossier status", "draft"),
    DossierStatus.SUBMITTED: lazy_pgettext("dossier status", "submitted"),
    DossierStatus.APPROVED: lazy_pgettext("dossier status", "selected"),
    DossierStatus.SIGNED: lazy_pgettext("dossier status", "convention signed"),
    DossierStatus.PARTIALLY_PAID: lazy_pgettext("dossier status", "partially paid"),
    DossierStatus.PAID: lazy_pgettext("dossier status", "paid in full"),
    DossierStatus.CLOSED: lazy_pgettext("dossier status", "closed"),
    DossierStatus.REJECTED: lazy_pgettext("dossier status", "not selected"),
}
PAYMENT_KIND_LABELS = {
    PaymentKind.ADVANCE: _l("advance"),
    PaymentKind.INSTALMENT: _l("instalment"),
    PaymentKind.BALANCE: _l("balance"),
}
DOCUMENT_KINDS = {
    "convention": _l("convention"),
    "decision": _l("award decision"),
    "invoice": _l("invoice"),
    "proof": _l("proof of payment"),
    "other": _l("other"),
}
# Statuses in which spending is still recorded, and those in which money is received.
OPEN_STATUSES = frozenset(DossierStatus) - {DossierStatus.CLOSED, DossierStatus.REJECTED}
PAYABLE_STATUSES = frozenset(
    {DossierStatus.SIGNED, DossierStatus.PARTIALLY_PAID, DossierStatus.PAID}
)
NOT_YET_IN_SERVICE = (AssetStatus.ORDERED, AssetStatus.DELIVERED, AssetStatus.INSTALLED)
WORKS_DONE = (WorkStatus.DONE, WorkStatus.ACCEPTED)
DEADLINE_DAYS = 60


def _require(user: Subject, action: Action, obj: Any, session: Session) -> None:
    if not policy.can(user, action, obj, session):
        raise policy.Denied()


def _commit(session: Session) -> None:
    errors.commit(
        session,
        ConflictError(
            _l("Someone else saved this record at the same moment. Reload it and try again.")
        ),
    )


def _check_version(loaded: int | None, current: int) -> None:
    if loaded is not None and loaded != current:
        raise ConflictError(
            _l(
                "Someone else saved this record while you were editing it. Nothing was saved: "
                "your changes are shown below, check them against the current version and "
                "save again."
            )
        )


# -- formatting (also used outside requests: CLI, PDF) -------------------------------------
def money(cents: int | None) -> str:
    """1735000 → '17 350,00 €' in French, '17,350.00 €' in English."""
    if cents is None:
        return ""
    return format_decimal(Decimal(cents) / 100, format="#,##0.00") + "\u00a0€"


def percent(rate: Decimal) -> str:
    """0.70 → '70 %' in French, '70%' in English; 0.525 → '52,5 %'."""
    sign = "\u00a0%" if str(get_locale()).startswith("fr") else "%"
    return format_decimal(Decimal(rate) * 100, format="#,##0.##") + sign


def day(value: date | None) -> str:
    """A day as the pages show it: '14 janv. 2021' in French, 'Jan 14, 2021' in English."""
    return format_date(value, "medium") if value else ""


# -- schemes -------------------------------------------------------------------------------
def install_presets(session: Session) -> list[str]:
    """Create the shipped schemes that do not exist yet (matched by code); returns their codes.

    An existing scheme is never touched: its rules may have been adjusted since."""
    created = []
    existing = set(session.scalars(select(FundingScheme.code)))
    for preset in PRESETS:
        if preset["code"] in existing:
            continue
        session.add(
            FundingScheme(
                code=preset["code"],
                name=preset["name"],
                note=preset.get("note"),
                funding_mention=preset.get("funding_mention"),
                rules=copy.deepcopy(preset["rules"]),
                version=1,
                active=True,
                referentiel=referentiels.of_preset(session, preset.get("referentiel")),
            )
        )
        created.append(preset["code"])
    session.commit()
    return created


def schemes(session: Session, *, active_only: bool = False) -> list[FundingScheme]:
    stmt = select(FundingScheme).order_by(FundingScheme.name)
    if active_only:
        stmt = stmt.where(FundingScheme.active.is_(True))
    return list(session.scalars(stmt))


_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")


def check_rules(data: Any) -> dict[str, Any]:
    """Validate a scheme's rules (as stored, JSON) and return them; GrantError otherwise."""

    def bad(reason: Any) -> GrantError:
        return GrantError(_l("The rules are not valid: %(reason)s", reason=reason), field="rules")

    if not isinstance(data, dict) or not isinstance(data.get("volets"), list) or not data["volets"]:
        raise bad(_l("they need a list of volets."))
    check_dates(data)
    try:
        rules = SchemeRules.from_data(data)
        for v in rules.volets:
            for t in v.tiers:
                if t.up_to_cents is not None and not isinstance(t.up_to_cents, int):
                    raise ValueError(f"up_to_cents {t.up_to_cents!r}")
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise bad(_l("missing or wrong value (%(detail)s).", detail=str(exc))) from None
    codes = [v.code for v in rules.volets]
    if len(set(codes)) != len(codes):
        raise bad(_l("two volets have the same code."))
    for volet in rules.volets:
        if not _CODE.fullmatch(volet.code):
            raise bad(_l("«%(code)s» is not a volet code (a-z, 0-9, - or _).", code=volet.code))
        if not volet.tiers:
            raise bad(_l("the volet %(code)s has no rate.", code=volet.code))
        last = 0
        for i, tier in enumerate(volet.tiers):
            if not Decimal(0) <= tier.rate <= Decimal(1):
                raise bad(_l("a rate is a decimal number between 0 and 1, e.g. 0.70."))
            if tier.up_to_cents is None:
                if i != len(volet.tiers) - 1:
                    raise bad(_l("only the last tier may have no upper bound."))
            elif int(tier.up_to_cents) <= last:
                raise bad(_l("the tiers' upper bounds must grow."))
            else:
                last = int(tier.up_to_cents)
        for cap in (volet.spending_cap, volet.aid_cap):
            if cap is not None and (cap.amount_cents < 0 or cap.years < 1):
                raise bad(_l("a cap is a positive amount over at least one year."))
        if volet.min_per_school_cents < 0:
            raise bad(_l("the minimum per school cannot be negative."))
    return data


def check_dates(data: Mapping[str, Any]) -> SchemeRules:
    """The rules' dates are ISO days, in order: spending from ≤ spending to ≤ claim deadline."""
    for key in DATE_KEYS:
        value = data.get(key)
        if value in (None, ""):
            continue
        try:
            date.fromisoformat(str(value))
        except ValueError:
            raise GrantError(
                _l(
                    "The rules are not valid: %(key)s is not a day (YYYY-MM-DD).",
                    key=key,
                ),
                field="rules",
            ) from None
    rules = SchemeRules.from_data({**data, "volets": []})
    start, end, deadline = rules.spending_from, rules.spending_to, rules.claim_deadline
    if start and end and end < start:
        raise GrantError(
            _l("The end of eligible spending comes before its start."), field="spending_to"
        )
    last = end or start
    if deadline and last and deadline < last:
        raise GrantError(
            _l("The claim deadline comes before the end of eligible spending."),
            field="claim_deadline",
        )
    return rules


@dataclass(frozen=True)
class SchemeDates:
    """A scheme's dates as an administrator gives them on its page."""

    spending_from: date | None = None
    spending_to: date | None = None
    claim_deadline: date | None = None

    @classmethod
    def of(cls, rules: Mapping[str, Any]) -> SchemeDates:
        typed = SchemeRules.from_data({**rules, "volets": []})
        return cls(typed.spending_from, typed.spending_to, typed.claim_deadline)


def rules_without_dates(rules: Mapping[str, Any]) -> dict[str, Any]:
    """The rules less their dates (shown apart, as dates, on the scheme's page)."""
    return {k: v for k, v in rules.items() if k not in DATE_KEYS}


def rules_with_dates(rules: Mapping[str, Any], dates: SchemeDates) -> dict[str, Any]:
    """``rules`` with the dates given; a date also written in the rules must agree."""
    out = rules_without_dates(rules)
    given = {k: getattr(dates, k) for k in DATE_KEYS}
    for key in DATE_KEYS:
        written = rules.get(key)
        wanted = given[key].isoformat() if given[key] else None
        if written not in (None, "") and str(written) != wanted:
            raise GrantError(
                _l(
                    "The rules give %(key)s as %(value)s: give the dates in their fields, "
                    "not in the rules.",
                    key=key,
                    value=str(written),
                ),
                field="rules",
            )
        if wanted:
            out[key] = wanted
    return out


def window_text(rules: SchemeRules) -> str:
    """'from 14 Jan 2021 to 31 Dec 2022', 'from …', 'until …' or ''."""
    start, end = rules.spending_from, rules.spending_to
    if start and end:
        return _("from %(start)s to %(end)s", start=day(start), end=day(end))
    if start:
        return _("from %(start)s", start=day(start))
    if end:
        return _("until %(end)s", end=day(end))
    return ""


def date_reason(rules: SchemeRules, problem: DateProblem, invoice_date: date | None) -> str:
    """Why an invoice's date makes it ineligible, as a clause: 'dated 15 Mar 2023, after the
    end of eligible spending (31 Dec 2022)'."""
    if problem is DateProblem.AFTER:
        return _(
            "dated %(date)s, after the end of eligible spending (%(end)s)",
            date=day(invoice_date),
            end=day(rules.spending_to),
        )
    if problem is DateProblem.BEFORE:
        return _(
            "dated %(date)s, before the start of eligible spending (%(start)s)",
            date=day(invoice_date),
            start=day(rules.spending_from),
        )
    return _(
        "no invoice date, so nothing shows it lies within eligible spending (%(window)s)",
        window=window_text(rules),
    )


def parse_rules(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg} (line {exc.lineno})"
        raise GrantError(
            _l("The rules are not valid JSON: %(reason)s", reason=reason), field="rules"
        ) from None
    return check_rules(data)


@dataclass
class SchemeFields:
    code: str
    name: str
    note: str | None = None
    funding_mention: str | None = None
    active: bool = True

    def check(self) -> SchemeFields:
        self.code = (self.code or "").strip().lower()
        self.name = " ".join((self.name or "").split())
        self.note = (self.note or "").strip() or None
        self.funding_mention = (self.funding_mention or "").strip() or None
        if not _CODE.fullmatch(self.code):
            raise GrantError(_l("A code has letters, digits, '-' or '_'."), field="code")
        if not self.name:
            raise GrantError(_l("Give the scheme a name."), field="name")
        return self


def save_scheme(
    session: Session,
    user: Subject,
    scheme: FundingScheme | None,
    fields: SchemeFields,
    rules: Mapping[str, Any],
    dates: SchemeDates | None = None,
) -> FundingScheme:
    """Create or update a scheme. A change of the rules (its dates included) bumps
    ``version``; dossiers keep the rules they froze until someone applies the new ones.

    ``dates``, when given, are the scheme's dates (they go into the rules, which may then
    not give other ones)."""
    policy.require(user, Action.ADMIN)
    fields = fields.check()
    rules = copy.deepcopy(dict(rules))
    if dates is not None:
        rules = rules_with_dates(rules, dates)
    rules = check_rules(rules)
    clash = select(FundingScheme.id).where(FundingScheme.code == fields.code)
    if scheme is not None:
        clash = clash.where(FundingScheme.id != scheme.id)
    if session.scalar(clash):
        raise GrantError(_l("The code %(code)s is already used.", code=fields.code), field="code")
    if scheme is None:
        scheme = FundingScheme(rules=rules, version=1, **fields.__dict__)
        session.add(scheme)
    else:
        for key, value in fields.__dict__.items():
            setattr(scheme, key, value)
        if json.dumps(scheme.rules, sort_keys=True) != json.dumps(rules, sort_keys=True):
            scheme.rules = rules
            scheme.version = scheme.version + 1
    session.commit()
    return scheme


def volets_of(rules: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(v["code"], v.get("label", v["code"])) for v in rules.get("volets", [])]


# -- dossiers ------------------------------------------------------------------------------
@dataclass
class DossierFields:
    title: str
    reference: str | None = None
    convention_max_cents: int | None = None
    decision_on: date | None = None
    convention_signed_on: date | None = None
    spending_deadline: date | None = None
    planned_cents: dict[str, int] = field(default_factory=dict)

    def check(self, rules: Mapping[str, Any]) -> DossierFields:
        self.title = " ".join((self.title or "").split())
        self.reference = (self.reference or "").strip() or None
        if not self.title:
            raise GrantError(_l("Give the dossier a title."), field="title")
        if len(self.title) > 200:
            raise GrantError(_l("At most 200 characters."), field="title")
        if self.reference and len(self.reference) > 60:
            raise GrantError(_l("At most 60 characters."), field="reference")
        if self.convention_max_cents is not None and self.convention_max_cents < 0:
            raise GrantError(_l("The amount cannot be negative."), field="convention_max")
        if (
            self.decision_on
            and self.convention_signed_on
            and self.convention_signed_on < self.decision_on
        ):
            raise GrantError(
                _l("The convention is signed after the award decision."),
                field="convention_signed_on",
            )
        start = self.convention_signed_on or self.decision_on
        if start and self.spending_deadline and self.spending_deadline < start:
            raise GrantError(
                _l("The spending deadline comes before the decision or the convention."),
                field="spending_deadline",
            )
        codes = {code for code, _label in volets_of(rules)}
        self.planned_cents = {
            code: int(cents)
            for code, cents in self.planned_cents.items()
            if code in codes and cents is not None
        }
        return self


@dataclass(frozen=True)
class SchoolCover:
    """A school the dossier covers; counts left to None take the school's figures."""

    ecole_id: int
    classes: int | None = None
    pupils: int | None = None


def school_defaults(session: Session, ecole_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(classes, pupils) per school: its target classrooms (cycles 2 and 3), and the pupils
    the Annuaire gives, or else the sum of its classrooms' pupils."""
    ids = list(ecole_ids)
    if not ids:
        return {}
    classes = dict(
        session.execute(
            select(Classroom.ecole_id, func.count())
            .where(Classroom.ecole_id.in_(ids), target_clause())
            .group_by(Classroom.ecole_id)
        ).all()
    )
    room_pupils = dict(
        session.execute(
            select(Classroom.ecole_id, func.coalesce(func.sum(Classroom.pupils), 0))
            .where(Classroom.ecole_id.in_(ids))
            .group_by(Classroom.ecole_id)
        ).all()
    )
    school_pupils = dict(
        session.execute(select(Ecole.id, Ecole.pupils).where(Ecole.id.in_(ids))).all()
    )
    return {
        i: (int(classes.get(i, 0)), int(school_pupils.get(i) or room_pupils.get(i) or 0))
        for i in ids
    }


def schools_of_collectivite(session: Session, user: Subject, coll: Collectivite) -> list[Ecole]:
    stmt = select(Ecole).where(Ecole.collectivite_id == coll.id).order_by(Ecole.name, Ecole.id)
    return list(session.scalars(policy.visible(user, stmt, Ecole)))


def finance_collectivites(session: Session, user: Subject) -> list[Collectivite]:
    """The collectivités the user may open a dossier for."""
    if not policy.allowed(user, Action.FINANCE):
        return []
    stmt = select(Collectivite).where(
        Collectivite.id.in_(select(Ecole.collectivite_id).where(Ecole.collectivite_id.isnot(None)))
    )
    return list(
        session.scalars(policy.visible(user, stmt, Collectivite).order_by(Collectivite.name))
    )


def _apply_schools(
    session: Session, dossier: Dossier, coll: Collectivite, covers: Sequence[SchoolCover]
) -> None:
    if not covers:
        raise GrantError(_l("Choose at least one school."), field="schools")
    wanted = {c.ecole_id: c for c in covers}
    owned = set(
        session.scalars(
            select(Ecole.id).where(Ecole.id.in_(list(wanted)), Ecole.collectivite_id == coll.id)
        )
    )
    if set(wanted) - owned:
        raise GrantError(
            _l("A dossier covers only schools of %(name)s.", name=coll.name), field="schools"
        )
    for c in covers:
        for value in (c.classes, c.pupils):
            if value is not None and not 0 <= value <= 100_000:
                raise GrantError(_l("A count is between 0 and 100,000."), field="schools")
    defaults = school_defaults(session, wanted)
    current = {s.ecole_id: s for s in dossier.schools}
    removed = set(current) - set(wanted)
    if removed and dossier.id:
        used = session.scalars(
            select(Ecole.name)
            .join(ExpenseAllocation, ExpenseAllocation.ecole_id == Ecole.id)
            .join(Expense, Expense.id == ExpenseAllocation.expense_id)
            .where(Expense.dossier_id == dossier.id, Ecole.id.in_(removed))
            .distinct()
        ).all()
        if used:
            raise GrantError(
                _l(
                    "Expenses are allocated to %(names)s: change them before removing "
                    "the school from the dossier.",
                    names=", ".join(sorted(used)),
                ),
                field="schools",
            )
    for ecole_id in removed:
        dossier.schools.remove(current[ecole_id])
    for ecole_id, cover in wanted.items():
        classes, pupils = defaults[ecole_id]
        row = current.get(ecole_id)
        if row is None:
            row = DossierSchool(ecole_id=ecole_id)
            dossier.schools.append(row)
        row.classes = classes if cover.classes is None else cover.classes
        row.pupils = pupils if cover.pupils is None else cover.pupils


def _check_reference(session: Session, dossier: Dossier, reference: str | None) -> None:
    if not reference:
        return
    stmt = select(Dossier.id).where(
        Dossier.reference == reference, Dossier.scheme_id == dossier.scheme_id
    )
    if dossier.id:
        stmt = stmt.where(Dossier.id != dossier.id)
    if session.scalar(stmt):
        raise GrantError(
            _l("A dossier of this scheme already has the reference %(ref)s.", ref=reference),
            field="reference",
        )


def create_dossier(
    session: Session,
    user: Subject,
    *,
    collectivite: Collectivite,
    scheme: FundingScheme,
    fields: DossierFields,
    schools: Sequence[SchoolCover],
) -> Dossier:
    """A new draft dossier; it freezes the scheme's current rules."""
    _require(user, Action.FINANCE, collectivite, session)
    if not scheme.active:
        raise GrantError(_l("This scheme is closed to new dossiers."), field="scheme")
    fields = fields.check(scheme.rules)
    dossier = Dossier(
        collectivite_id=collectivite.id,
        collectivite=collectivite,
        scheme_id=scheme.id,
        scheme=scheme,
        scheme_version=scheme.version,
        rules=copy.deepcopy(scheme.rules),
        status=DossierStatus.DRAFT,
        **fields.__dict__,
    )
    _check_reference(session, dossier, fields.reference)
    _apply_schools(session, dossier, collectivite, schools)
    session.add(dossier)
    session.commit()
    return dossier


def update_dossier(
    session: Session,
    user: Subject,
    dossier: Dossier,
    *,
    version: int | None,
    fields: DossierFields,
    schools: Sequence[SchoolCover],
) -> Dossier:
    _require(user, Action.FINANCE, dossier, session)
    _check_version(version, dossier.version)
    fields = fields.check(dossier.rules)
    _check_reference(session, dossier, fields.reference)
    _apply_schools(session, dossier, dossier.collectivite, schools)
    for key, value in fields.__dict__.items():
        setattr(dossier, key, value)
    # The covered schools are part of the dossier: any save gives it a new version.
    flag_modified(dossier, "planned_cents")
    _commit(session)
    return dossier


def change_dossier_status(
    session: Session,
    user: Subject,
    dossier: Dossier,
    to: DossierStatus,
    *,
    version: int | None = None,
) -> Dossier:
    _require(user, Action.FINANCE, dossier, session)
    _check_version(version, dossier.version)
    if to == dossier.status:
        return dossier
    if to not in DOSSIER_TRANSITIONS[dossier.status]:
        raise GrantError(
            _l(
                "A dossier %(current)s cannot become %(wanted)s.",
                current=STATUS_LABELS[dossier.status],
                wanted=STATUS_LABELS[to],
            ),
            field="status",
        )
    dossier.status = to
    _commit(session)
    return dossier


def next_statuses(dossier: Dossier) -> list[DossierStatus]:
    return [s for s in DossierStatus if s in DOSSIER_TRANSITIONS[dossier.status]]


def apply_current_rules(
    session: Session, user: Subject, dossier: Dossier, *, version: int | None = None
) -> Dossier:
    """Replace the dossier's frozen rules by its scheme's current ones (logged as a change
    of ``rules`` and ``scheme_version``)."""
    _require(user, Action.FINANCE, dossier, session)
    _check_version(version, dossier.version)
    scheme = dossier.scheme
    if dossier.scheme_version == scheme.version and dossier.rules == scheme.rules:
        return dossier
    dossier.rules = copy.deepcopy(scheme.rules)
    dossier.scheme_version = scheme.version
    _commit(session)
    return dossier


# -- expenses ------------------------------------------------------------------------------
@dataclass
class ExpenseFields:
    volet: str
    supplier: str
    invoice_number: str
    amount_ht_cents: int | None
    amount_ttc_cents: int | None
    invoice_date: date | None = None
    description: str | None = None

    def check(self, rules: Mapping[str, Any]) -> ExpenseFields:
        self.supplier = " ".join((self.supplier or "").split())
        self.invoice_number = (self.invoice_number or "").strip()
        self.description = (self.description or "").strip() or None
        if self.volet not in {code for code, _label in volets_of(rules)}:
            raise GrantError(_l("Choose a volet of the dossier's scheme."), field="volet")
        if not self.supplier:
            raise GrantError(_l("Give the supplier."), field="supplier")
        if not self.invoice_number:
            raise GrantError(_l("Give the invoice number."), field="invoice_number")
        if self.amount_ht_cents is None:
            raise GrantError(_l("Give the amount excluding VAT."), field="amount_ht")
        if self.amount_ttc_cents is None:
            raise GrantError(_l("Give the amount including VAT."), field="amount_ttc")
        if self.amount_ttc_cents < self.amount_ht_cents:
            raise GrantError(
                _l("The amount including VAT is lower than the amount without."),
                field="amount_ttc",
            )
        if self.amount_ttc_cents == 0:
            raise GrantError(_l("An invoice of 0 € is not an expense."), field="amount_ttc")
        typed = SchemeRules.from_data({**rules, "volets": []})
        if self.invoice_date is None and typed.has_window:
            raise GrantError(
                _l(
                    "Give the invoice date: the scheme pays for invoices dated %(window)s.",
                    window=LazyString(window_text, typed),
                ),
                field="invoice_date",
            )
        return self


@dataclass(frozen=True)
class AllocationInput:
    ecole_id: int
    amount_ht_cents: int | None
    amount_ttc_cents: int | None


@dataclass(frozen=True)
class LinkInput:
    """An item the expense paid for: ``kind`` is 'asset' or 'work'; ``amount_cents`` None
    takes what the item's price leaves to fund, when the price is known."""

    kind: str
    item_id: int
    amount_cents: int | None = None

    @property
    def key(self) -> str:
        return f"{self.kind[0]}:{self.item_id}"


def _linked_totals(
    session: Session, asset_ids: Iterable[int], work_ids: Iterable[int], exclude: int | None
) -> tuple[dict[int, int], dict[int, int]]:
    """Sum of every funding link per asset and per work, but for expense ``exclude``."""
    out: list[dict[int, int]] = []
    for column, ids in (
        (FundingLink.asset_id, list(asset_ids)),
        (FundingLink.work_id, list(work_ids)),
    ):
        if not ids:
            out.append({})
            continue
        stmt = (
            select(column, func.sum(FundingLink.amount_cents))
            .where(column.in_(ids))
            .group_by(column)
        )
        if exclude is not None:
            stmt = stmt.where(FundingLink.expense_id != exclude)
        out.append({k: int(v) for k, v in session.execute(stmt)})
    return out[0], out[1]


def _covered_ids(dossier: Dossier) -> set[int]:
    return {s.ecole_id for s in dossier.schools}


def _resolve_allocations(
    session: Session, dossier: Dossier, fields: ExpenseFields, given: Sequence[AllocationInput]
) -> list[AllocationInput]:
    rows = [a for a in given if (a.amount_ht_cents or 0) != 0 or (a.amount_ttc_cents or 0) != 0]
    covered = _covered_ids(dossier)
    if not rows:
        if len(covered) == 1:
            return [
                AllocationInput(
                    next(iter(covered)), fields.amount_ht_cents, fields.amount_ttc_cents
                )
            ]
        raise GrantError(_l("Split the invoice over the schools it concerns."), field="allocations")
    seen: set[int] = set()
    for a in rows:
        if a.ecole_id not in covered:
            raise GrantError(
                _l("An invoice is split only over the schools the dossier covers."),
                field="allocations",
            )
        if a.ecole_id in seen:
            raise GrantError(_l("A school appears twice in the split."), field="allocations")
        seen.add(a.ecole_id)
        if a.amount_ht_cents is None or a.amount_ttc_cents is None:
            raise GrantError(
                _l("Give both amounts, excluding and including VAT, for each school."),
                field="allocations",
            )
        if a.amount_ttc_cents < a.amount_ht_cents:
            raise GrantError(
                _l("For each school, the amount including VAT is at least the amount without."),
                field="allocations",
            )
    ht = sum(a.amount_ht_cents or 0 for a in rows)
    ttc = sum(a.amount_ttc_cents or 0 for a in rows)
    if ht != fields.amount_ht_cents or ttc != fields.amount_ttc_cents:
        raise GrantError(
            _l(
                "The schools' shares add up to %(ht)s excl. VAT and %(ttc)s incl. VAT, but the "
                "invoice is %(inv_ht)s excl. VAT and %(inv_ttc)s incl. VAT.",
                ht=money(ht),
                ttc=money(ttc),
                inv_ht=money(fields.amount_ht_cents),
                inv_ttc=money(fields.amount_ttc_cents),
            ),
            field="allocations",
        )
    return rows


@dataclass
class ResolvedLink:
    asset: Asset | None
    work: NetworkWork | None
    amount_cents: int


def _item_label(asset: Asset | None, work: NetworkWork | None) -> str:
    if asset is not None:
        return asset.tag + (f" ({asset.serial})" if asset.serial else "")
    return work.title if work is not None else ""


def _resolve_links(
    session: Session,
    user: Subject,
    dossier: Dossier,
    fields: ExpenseFields,
    given: Sequence[LinkInput],
    expense_id: int | None,
) -> list[ResolvedLink]:
    keys = [g.key for g in given]
    if len(set(keys)) != len(keys):
        raise GrantError(_l("An item is linked twice to the same invoice."), field="links")
    covered = _covered_ids(dossier)
    asset_ids = [g.item_id for g in given if g.kind == "asset"]
    work_ids = [g.item_id for g in given if g.kind == "work"]
    if len(asset_ids) + len(work_ids) != len(given):
        raise GrantError(_l("Unknown item."), field="links")
    assets = {
        a.id: a
        for a in session.scalars(
            policy.visible(user, select(Asset).where(Asset.id.in_(asset_ids)), Asset)
        )
    }
    works = {
        w.id: w
        for w in session.scalars(
            policy.visible(
                user, select(NetworkWork).where(NetworkWork.id.in_(work_ids)), NetworkWork
            )
        )
    }
    linked_assets, linked_works = _linked_totals(session, assets, works, expense_id)
    out: list[ResolvedLink] = []
    for g in given:
        asset = assets.get(g.item_id) if g.kind == "asset" else None
        work = works.get(g.item_id) if g.kind == "work" else None
        if asset is not None:
            in_dossier = asset.ecole_id in covered or (
                asset.ecole_id is None and asset.collectivite_id == dossier.collectivite_id
            )
            price = asset.price_ttc_cents
            already = linked_assets.get(asset.id, 0)
        elif work is not None:
            in_dossier = work.ecole_id in covered
            price = work.invoice_cents
            already = linked_works.get(work.id, 0)
        else:
            raise GrantError(_l("Unknown item."), field="links")
        label = _item_label(asset, work)
        if not in_dossier:
            raise GrantError(
                _l("%(item)s is not in a school the dossier covers.", item=label), field="links"
            )
        amount = g.amount_cents
        if amount is None:
            if price is None:
                raise GrantError(
                    _l("Give the amount the invoice paid for %(item)s.", item=label),
                    field="links",
                )
            amount = max(price - already, 0)
        if amount <= 0:
            raise GrantError(
                _l("The amount linked to %(item)s must be above 0 €.", item=label), field="links"
            )
        if price is not None and already + amount > price:
            raise GrantError(
                _l(
                    "%(item)s costs %(price)s: the invoices linked to it would cover %(total)s.",
                    item=label,
                    price=money(price),
                    total=money(already + amount),
                ),
                field="links",
            )
        out.append(ResolvedLink(asset, work, amount))
    total = sum(link.amount_cents for link in out)
    if total > (fields.amount_ttc_cents or 0):
        raise GrantError(
            _l(
                "The items linked add up to %(total)s, more than the invoice's %(ttc)s incl. VAT.",
                total=money(total),
                ttc=money(fields.amount_ttc_cents),
            ),
            field="links",
        )
    return out


def _check_open(dossier: Dossier) -> None:
    if dossier.status not in OPEN_STATUSES:
        raise GrantError(
            _l(
                "The dossier is %(status)s: its expenses can no longer change.",
                status=STATUS_LABELS[dossier.status],
            )
        )


def _fill_expense(
    expense: Expense,
    fields: ExpenseFields,
    allocations: Sequence[AllocationInput],
    links: Sequence[ResolvedLink],
) -> None:
    for key, value in fields.__dict__.items():
        setattr(expense, key, value)
    current = {a.ecole_id: a for a in expense.allocations}
    wanted = {a.ecole_id: a for a in allocations}
    for ecole_id, row in current.items():
        if ecole_id not in wanted:
            expense.allocations.remove(row)
    for ecole_id, a in wanted.items():
        row = current.get(ecole_id)
        if row is None:
            row = ExpenseAllocation(ecole_id=ecole_id)
            expense.allocations.append(row)
        row.amount_ht_cents = a.amount_ht_cents or 0
        row.amount_ttc_cents = a.amount_ttc_cents or 0
    by_item = {(link.asset_id, link.work_id): link for link in expense.links}
    keep = set()
    for r in links:
        key = (r.asset.id if r.asset else None, r.work.id if r.work else None)
        keep.add(key)
        row = by_item.get(key)
        if row is None:
            row = FundingLink(asset=r.asset, work=r.work)
            expense.links.append(row)
        row.amount_cents = r.amount_cents
    for key, row in by_item.items():
        if key not in keep:
            expense.links.remove(row)


# -- files ---------------------------------------------------------------------------------
MAX_FILE_BYTES = 10 * 1024 * 1024
FILE_TYPES = (uploads.PDF, uploads.JPEG, uploads.PNG)


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def _accept(upload: Upload, field_name: str) -> str:
    return uploads.accept(upload.data, FILE_TYPES, MAX_FILE_BYTES, field_name)


def _store_invoice(
    expense: Expense, invoice: Upload | None, content_type: str | None, directory: Path | None
) -> str | None:
    """Keep the invoice's file and name it on the expense; returns the stored name."""
    if invoice is None or content_type is None or directory is None:
        return None
    expense.stored_name = uploads.store(directory, invoice.data, content_type)
    expense.filename = uploads.clean_filename(invoice.filename, "fichier")
    return expense.stored_name


def _commit_with_file(session: Session, directory: Path | None, written: str | None) -> None:
    try:
        _commit(session)
    except Exception:
        if directory is not None:
            uploads.remove(directory, written)
        raise


def add_expense(
    session: Session,
    user: Subject,
    dossier: Dossier,
    fields: ExpenseFields,
    *,
    allocations: Sequence[AllocationInput] = (),
    links: Sequence[LinkInput] = (),
    invoice: Upload | None = None,
    upload_dir: Path | None = None,
) -> Expense:
    """Record an invoice: split over the covered schools (a dossier of one school takes it
    all by default) and linked to the items it paid for."""
    _require(user, Action.FINANCE, dossier, session)
    _check_open(dossier)
    fields = fields.check(dossier.rules)
    allocs = _resolve_allocations(session, dossier, fields, allocations)
    resolved = _resolve_links(session, user, dossier, fields, links, None)
    content_type = _accept(invoice, "invoice_file") if invoice else None
    expense = Expense(dossier=dossier)
    _fill_expense(expense, fields, allocs, resolved)
    written = _store_invoice(expense, invoice, content_type, upload_dir)
    session.add(expense)
    _commit_with_file(session, upload_dir, written)
    return expense


def update_expense(
    session: Session,
    user: Subject,
    expense: Expense,
    *,
    version: int | None,
    fields: ExpenseFields,
    allocations: Sequence[AllocationInput] = (),
    links: Sequence[LinkInput] = (),
    invoice: Upload | None = None,
    upload_dir: Path | None = None,
) -> Expense:
    """Save an edit made on a copy loaded at ``version``: a conflicting save changes nothing."""
    _require(user, Action.FINANCE, expense, session)
    _check_version(version, expense.version)
    dossier = expense.dossier
    _check_open(dossier)
    fields = fields.check(dossier.rules)
    allocs = _resolve_allocations(session, dossier, fields, allocations)
    resolved = _resolve_links(session, user, dossier, fields, links, expense.id)
    content_type = _accept(invoice, "invoice_file") if invoice else None
    _fill_expense(expense, fields, allocs, resolved)
    old = expense.stored_name
    written = _store_invoice(expense, invoice, content_type, upload_dir)
    # The allocations and links are part of the expense: any save gives it a new version.
    flag_modified(expense, "supplier")
    _commit_with_file(session, upload_dir, written)
    if written is not None and upload_dir is not None:
        uploads.remove(upload_dir, old)
    return expense


def delete_expense(
    session: Session,
    user: Subject,
    expense: Expense,
    *,
    version: int | None = None,
    upload_dir: Path | None = None,
) -> None:
    _require(user, Action.FINANCE, expense, session)
    _check_version(version, expense.version)
    _check_open(expense.dossier)
    old = expense.stored_name
    session.delete(expense)
    _commit(session)
    if upload_dir is not None:
        uploads.remove(upload_dir, old)


# -- payments ------------------------------------------------------------------------------
@dataclass
class PaymentFields:
    kind: PaymentKind
    requested_on: date | None = None
    requested_cents: int | None = None
    received_on: date | None = None
    received_cents: int | None = None
    reference: str | None = None
    # The user confirms that this payment may take the money received above the aid.
    over_aid_confirmed: bool = False

    def check(self) -> PaymentFields:
        self.reference = (self.reference or "").strip()[:60] or None
        if self.requested_cents is None and self.received_cents is None:
            raise GrantError(
                _l("Give the amount requested or the amount received."), field="requested"
            )
        for cents, name in ((self.requested_cents, "requested"), (self.received_cents, "received")):
            if cents is not None and cents < 0:
                raise GrantError(_l("The amount cannot be negative."), field=name)
        if self.received_cents is not None and self.received_on is None:
            raise GrantError(_l("Give the date the money was received."), field="received_on")
        if self.received_on is not None and self.received_cents is None:
            raise GrantError(_l("Give the amount received."), field="received")
        if self.requested_cents is not None and self.requested_on is None:
            raise GrantError(_l("Give the date of the request."), field="requested_on")
        return self


class OverAidError(GrantError):
    """The payment would take the money received above the computed aid, unconfirmed."""


def _above_aid(dossier: Dossier, fields: PaymentFields, payment: Payment | None) -> bool:
    """Whether the money received, with this payment, goes above the dossier's computed aid;
    OverAidError when it does and the user has not confirmed it."""
    if not fields.received_cents:
        return False
    others = sum(p.received_cents or 0 for p in dossier.payments if p is not payment)
    received = others + fields.received_cents
    aid = dossier_aid(dossier).aid_cents
    if received <= aid:
        return False
    if not fields.over_aid_confirmed:
        raise OverAidError(
            _l(
                "With this payment, %(received)s would be received: %(above)s more than the "
                "aid computed from the eligible spending (%(aid)s). Check the amount and the "
                "invoices, or tick the confirmation to record it all the same.",
                received=money(received),
                above=money(received - aid),
                aid=money(aid),
            ),
            field="received",
        )
    return True


def record_payment(
    session: Session, user: Subject, dossier: Dossier, fields: PaymentFields
) -> Payment:
    """A request for payment, or money received, once the convention is signed. Money that
    takes the total received above the computed aid needs ``over_aid_confirmed``, which the
    payment keeps (and the change log shows)."""
    _require(user, Action.FINANCE, dossier, session)
    if dossier.status not in PAYABLE_STATUSES:
        raise GrantError(
            _l(
                "The dossier is %(status)s: payments come once the convention is signed.",
                status=STATUS_LABELS[dossier.status],
            ),
            field="kind",
        )
    fields = fields.check()
    above = _above_aid(dossier, fields, None)
    values = {**fields.__dict__, "over_aid_confirmed": above}
    payment = Payment(dossier=dossier, **values)
    session.add(payment)
    session.commit()
    return payment


def update_payment(
    session: Session, user: Subject, payment: Payment, fields: PaymentFields
) -> Payment:
    _require(user, Action.FINANCE, payment, session)
    if payment.dossier.status == DossierStatus.CLOSED:
        raise GrantError(_l("The dossier is closed."), field="kind")
    fields = fields.check()
    above = _above_aid(payment.dossier, fields, payment)
    for key, value in {**fields.__dict__, "over_aid_confirmed": above}.items():
        setattr(payment, key, value)
    session.commit()
    return payment


def delete_payment(session: Session, user: Subject, payment: Payment) -> None:
    _require(user, Action.FINANCE, payment, session)
    if payment.dossier.status == DossierStatus.CLOSED:
        raise GrantError(_l("The dossier is closed."))
    session.delete(payment)
    session.commit()


# -- documents -----------------------------------------------------------------------------
def add_document(
    session: Session,
    user: Subject,
    dossier: Dossier,
    kind: str,
    upload: Upload,
    upload_dir: Path,
) -> DossierDocument:
    _require(user, Action.FINANCE, dossier, session)
    if kind not in DOCUMENT_KINDS:
        raise GrantError(_l("Choose the kind of document."), field="kind")
    content_type = _accept(upload, "file")
    written = uploads.store(upload_dir, upload.data, content_type)
    doc = DossierDocument(
        dossier=dossier,
        kind=kind,
        filename=uploads.clean_filename(upload.filename, "fichier"),
        stored_name=written,
        content_type=content_type,
        size=len(upload.data),
    )
    session.add(doc)
    _commit_with_file(session, upload_dir, written)
    return doc


def delete_document(
    session: Session, user: Subject, doc: DossierDocument, upload_dir: Path
) -> None:
    _require(user, Action.FINANCE, doc, session)
    name = doc.stored_name
    session.delete(doc)
    session.commit()
    uploads.remove(upload_dir, name)


# -- reading -------------------------------------------------------------------------------
def _detail_options() -> list[Any]:
    asset = selectinload(Expense.links).selectinload(FundingLink.asset)
    work = selectinload(Dossier.expenses).selectinload(Expense.links).selectinload(FundingLink.work)
    return [
        selectinload(Dossier.collectivite),
        selectinload(Dossier.scheme),
        selectinload(Dossier.schools).selectinload(DossierSchool.ecole),
        selectinload(Dossier.expenses)
        .selectinload(Expense.allocations)
        .selectinload(ExpenseAllocation.ecole),
        selectinload(Dossier.expenses).options(
            asset.selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
            asset.selectinload(Asset.category),
            asset.selectinload(Asset.classroom),
            asset.selectinload(Asset.ecole),
        ),
        work.selectinload(NetworkWork.ecole),
        work.selectinload(NetworkWork.classrooms),
        selectinload(Dossier.payments),
        selectinload(Dossier.documents),
    ]


def dossier_detail(
    session: Session, user: Subject, dossier_id: int, action: Action = Action.READ
) -> Dossier:
    """The dossier with everything its page, claim file and exports show, or 404."""
    if not policy.allowed(user, action):
        raise policy.Denied()
    stmt = policy.visible(
        user, select(Dossier).where(Dossier.id == dossier_id).options(*_detail_options()), Dossier
    )
    dossier = session.scalar(stmt)
    if dossier is None:
        raise policy.Denied()
    return dossier


def expense_detail(session: Session, user: Subject, expense_id: int, action: Action) -> Expense:
    expense = policy.load_or_404(user, Expense, expense_id, session, action)
    dossier_detail(session, user, expense.dossier_id, action)
    return expense


@dataclass(frozen=True)
class DossierFilters:
    status: DossierStatus | None = None
    collectivite: int | None = None
    scheme: int | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        if self.status:
            stmt = stmt.where(Dossier.status == self.status)
        if self.collectivite:
            stmt = stmt.where(Dossier.collectivite_id == self.collectivite)
        if self.scheme:
            stmt = stmt.where(Dossier.scheme_id == self.scheme)
        return stmt


def list_dossiers(
    session: Session, user: Subject, filters: DossierFilters, page: int, per_page: int
) -> Page[Dossier]:
    stmt = (
        policy.visible(user, filters.apply(select(Dossier)), Dossier)
        .options(
            selectinload(Dossier.collectivite),
            selectinload(Dossier.scheme),
            selectinload(Dossier.schools).selectinload(DossierSchool.ecole),
            selectinload(Dossier.expenses).selectinload(Expense.allocations),
            selectinload(Dossier.payments),
        )
        .order_by(Dossier.created_at.desc(), Dossier.id.desc())
    )
    return paginate(session, stmt, page, per_page)


def dossier_collectivites(session: Session, user: Subject) -> list[Collectivite]:
    """The collectivités with a dossier the user may see, for the list's filter."""
    ids = policy.visible(user, select(Dossier.collectivite_id), Dossier).distinct()
    stmt = select(Collectivite).where(Collectivite.id.in_(ids)).order_by(Collectivite.name)
    return list(session.scalars(stmt))


def dossier_history(session: Session, user: Subject, dossier: Dossier) -> list[AuditRecord]:
    """The dossier's own changes and those of its schools, expenses, payments, documents."""
    records = {r.id: r for r in history_of(session, user, dossier)}
    children = [
        ("dossier_schools", [s.id for s in dossier.schools]),
        ("expenses", [e.id for e in dossier.expenses]),
        ("payments", [p.id for p in dossier.payments]),
        ("dossier_documents", [d.id for d in dossier.documents]),
    ]
    parts = [
        and_(AuditRecord.object_type == kind, AuditRecord.object_id.in_(ids))
        for kind, ids in children
        if ids
    ]
    if parts:
        stmt = policy.visible(user, select(AuditRecord).where(or_(*parts)), AuditRecord)
        for r in session.scalars(stmt.order_by(AuditRecord.id.desc()).limit(100)):
            records[r.id] = r
    return sorted(records.values(), key=lambda r: r.id, reverse=True)[:100]


# -- aid -----------------------------------------------------------------------------------
def _facts(dossier: Dossier) -> list[SchoolFacts]:
    return [SchoolFacts(s.ecole_id, s.ecole.name, s.classes, s.pupils) for s in dossier.schools]


def _spending(dossier: Dossier) -> list[Spending]:
    return [
        Spending(e.volet, a.ecole_id, a.amount_ht_cents, a.amount_ttc_cents, e.invoice_date, e.id)
        for e in dossier.expenses
        for a in e.allocations
    ]


def ineligible_expenses(
    dossier: Dossier, rules: Mapping[str, Any] | None = None
) -> dict[int, DateProblem]:
    """The dossier's expenses that its rules' dates leave out (the aid, the claim file and
    its exports count none of them), with the reason."""
    typed = SchemeRules.from_data({**(dossier.rules if rules is None else rules), "volets": []})
    out = {}
    for e in dossier.expenses:
        problem = typed.date_problem(e.invoice_date)
        if problem is not None:
            out[e.id] = problem
    return out


def dossier_aid(dossier: Dossier, rules: Mapping[str, Any] | None = None) -> AidResult:
    """The aid of the dossier's recorded spending under its frozen rules (or ``rules``)."""
    return compute_aid(
        SchemeRules.from_data(dossier.rules if rules is None else rules),
        _facts(dossier),
        _spending(dossier),
        dossier.convention_max_cents,
    )


@dataclass
class Line:
    """One line of the breakdown, in plain words."""

    kind: str
    text: str
    amount_cents: int
    volet: str | None = None
    ecole_id: int | None = None

    @property
    def emphasis(self) -> bool:
        return self.kind in {"volet_aid", "convention_max", "total"}


def _cap_detail(basis: str, unit: int, classes: int, pupils: int, years: int) -> str:
    if basis == CapBasis.CLASS:
        text = ngettext(
            "%(num)d class × %(unit)s", "%(num)d classes × %(unit)s", classes, unit=money(unit)
        )
    elif basis == CapBasis.PUPIL:
        text = ngettext(
            "%(num)d pupil × %(unit)s", "%(num)d pupils × %(unit)s", pupils, unit=money(unit)
        )
    else:
        text = _("%(unit)s per school", unit=money(unit))
    if years > 1:
        text = _("%(detail)s × %(years)s years", detail=text, years=years)
    return text


DATE_STEPS = frozenset(problem.value for problem in DateProblem)


def explain(
    result: AidResult,
    rules: SchemeRules,
    facts: Sequence[SchoolFacts],
    names: Mapping[int, str],
    invoices: Mapping[int, str] | None = None,
) -> list[Line]:
    """The computation's steps as sentences a finance officer can check with a calculator,
    e.g. 'École X: spending 15,000.00 € capped at 10,500.00 € (3 classes × 3,500.00 €)'.
    ``invoices`` names the expenses (by id) that the dates leave out."""
    by_id = {f.ecole_id: f for f in facts}
    invoices = invoices or {}
    lines: list[Line] = []
    steps = result.steps
    i = 0
    current_volet = None
    per_school_heading = False
    while i < len(steps):
        step: Step = steps[i]
        volet = rules.volet(step.volet) if step.volet else None
        if step.volet and step.volet != current_volet:
            current_volet = step.volet
            label = volet.label if volet else step.volet
            lines.append(Line("heading", label, 0, step.volet))
        school = names.get(step.ecole_id or 0, f"#{step.ecole_id}")
        nxt = steps[i + 1] if i + 1 < len(steps) else None
        p = step.params
        if step.text in DATE_STEPS:
            expense = p.get("expense")
            text = _(
                "Invoice %(invoice)s (%(school)s, %(amount)s): %(reason)s: not eligible",
                invoice=invoices.get(expense or 0, f"#{expense}" if expense else "—"),
                school=school,
                amount=money(step.amount_cents),
                reason=date_reason(rules, DateProblem(step.text), p.get("date")),
            )
            lines.append(Line(step.text, text, 0, step.volet, step.ecole_id))
        elif step.text == "spending":
            amount = money(step.amount_cents)
            follow = (
                nxt
                if nxt is not None
                and nxt.ecole_id == step.ecole_id
                and nxt.volet == step.volet
                and nxt.text in {"spending_cap", "not_covered", "below_minimum"}
                else None
            )
            if follow is not None and follow.text == "spending_cap":
                fp = follow.params
                text = _(
                    "%(school)s: spending %(amount)s capped at %(cap)s (%(detail)s)",
                    school=school,
                    amount=amount,
                    cap=money(follow.amount_cents),
                    detail=_cap_detail(
                        fp["basis"], fp["unit"], fp["classes"], fp["pupils"], fp["years"]
                    ),
                )
                lines.append(
                    Line("spending_cap", text, follow.amount_cents, step.volet, step.ecole_id)
                )
                i += 2
                continue
            if follow is not None and follow.text == "not_covered":
                text = _(
                    "%(school)s: spending %(amount)s, for a school the dossier does not cover: "
                    "not eligible",
                    school=school,
                    amount=amount,
                )
                lines.append(Line("not_covered", text, 0, step.volet, step.ecole_id))
                i += 2
                continue
            if follow is not None and follow.text == "below_minimum":
                text = _(
                    "%(school)s: spending %(amount)s, below the minimum of %(minimum)s per "
                    "school: not eligible",
                    school=school,
                    amount=amount,
                    minimum=money(follow.params["minimum"]),
                )
                lines.append(Line("below_minimum", text, 0, step.volet, step.ecole_id))
                i += 2
                continue
            cap = volet.spending_cap if volet else None
            fact = by_id.get(step.ecole_id or 0)
            if cap is not None and fact is not None:
                limit = cap.limit(fact.classes, fact.pupils)
                text = _(
                    "%(school)s: spending %(amount)s, within its cap of %(cap)s (%(detail)s)",
                    school=school,
                    amount=amount,
                    cap=money(limit),
                    detail=_cap_detail(
                        cap.basis, cap.amount_cents, fact.classes, fact.pupils, cap.years
                    ),
                )
            else:
                text = _("%(school)s: spending %(amount)s", school=school, amount=amount)
            lines.append(Line("spending", text, step.amount_cents, step.volet, step.ecole_id))
        elif step.text == "eligible":
            lines.append(
                Line(
                    "eligible",
                    _("Eligible spending: %(amount)s", amount=money(step.amount_cents)),
                    step.amount_cents,
                    step.volet,
                )
            )
        elif step.text == "tier":
            low, high = int(p["from"]), int(p["to"])
            tiers = volet.tiers if volet else ()
            single = low == 0 and (
                len(tiers) <= 1 or tiers[0].up_to_cents is None or high < tiers[0].up_to_cents
            )
            if single:
                text = _(
                    "%(rate)s of %(base)s = %(amount)s",
                    rate=percent(p["rate"]),
                    base=money(high - low),
                    amount=money(step.amount_cents),
                )
            else:
                text = _(
                    "%(rate)s of %(base)s (the part from %(low)s to %(high)s) = %(amount)s",
                    rate=percent(p["rate"]),
                    base=money(high - low),
                    low=money(low),
                    high=money(high),
                    amount=money(step.amount_cents),
                )
            lines.append(Line("tier", text, step.amount_cents, step.volet))
        elif step.text == "school_aid":
            if p["eligible"] == p["of"]:
                text = _(
                    "%(school)s: aid %(amount)s", school=school, amount=money(step.amount_cents)
                )
            else:
                text = _(
                    "%(school)s: aid %(amount)s (for %(base)s of the %(total)s eligible)",
                    school=school,
                    amount=money(step.amount_cents),
                    base=money(p["eligible"]),
                    total=money(p["of"]),
                )
            lines.append(Line("school_aid", text, step.amount_cents, step.volet, step.ecole_id))
        elif step.text == "aid_cap":
            text = _(
                "%(school)s: aid limited to %(amount)s (%(detail)s), instead of its share of "
                "%(share)s",
                school=school,
                amount=money(step.amount_cents),
                detail=_cap_detail(p["basis"], p["unit"], p["classes"], p["pupils"], p["years"]),
                share=money(p["share"]),
            )
            lines.append(Line("aid_cap", text, step.amount_cents, step.volet, step.ecole_id))
        elif step.text == "rate_limit":
            text = _(
                "%(school)s: aid %(amount)s, held to %(rate)s of its eligible %(base)s (rounding)",
                school=school,
                amount=money(step.amount_cents),
                rate=percent(p["rate"]),
                base=money(p["eligible"]),
            )
            lines.append(Line("rate_limit", text, step.amount_cents, step.volet, step.ecole_id))
        elif step.text == "volet_aid":
            tiered = int(p.get("tiered", step.amount_cents))
            if tiered > step.amount_cents:
                text = _(
                    "Aid for this volet: %(amount)s (the rates give %(tiered)s, less what the "
                    "schools' own limits leave out)",
                    amount=money(step.amount_cents),
                    tiered=money(tiered),
                )
            else:
                text = _("Aid for this volet: %(amount)s", amount=money(step.amount_cents))
            lines.append(Line("volet_aid", text, step.amount_cents, step.volet))
        elif step.text == "convention_max":
            current_volet = None
            text = _(
                "Convention maximum: %(amount)s (the computed aid was %(computed)s)",
                amount=money(step.amount_cents),
                computed=money(step.params["computed"]),
            )
            lines.append(Line("convention_max", text, step.amount_cents))
        elif step.text == "school_total":
            current_volet = None
            if not per_school_heading:
                per_school_heading = True
                lines.append(Line("heading", _("Aid per school"), 0))
            text = _("%(school)s: %(amount)s", school=school, amount=money(step.amount_cents))
            lines.append(Line("school_total", text, step.amount_cents, None, step.ecole_id))
        elif step.text == "total":
            lines.append(
                Line(
                    "total",
                    _("State aid: %(amount)s", amount=money(step.amount_cents)),
                    step.amount_cents,
                )
            )
        else:  # a step this version does not describe: show it as it is
            lines.append(
                Line(
                    step.text,
                    f"{step.text}: {money(step.amount_cents)}",
                    step.amount_cents,
                    step.volet,
                    step.ecole_id,
                )
            )
        i += 1
    return lines


@dataclass
class VoletLine:
    code: str
    label: str
    planned_cents: int | None
    spent_ht_cents: int = 0
    spent_ttc_cents: int = 0
    eligible_cents: int = 0
    aid_cents: int = 0


@dataclass
class DossierSummary:
    aid: AidResult
    lines: list[Line]
    volets: list[VoletLine]
    spent_ht_cents: int  # every invoice recorded
    spent_ttc_cents: int
    requested_cents: int
    received_cents: int
    vat_included: bool
    unknown_volets: list[str]
    rules: SchemeRules | None = None
    ineligible: dict[int, str] = field(default_factory=dict)  # expense id → why, in words
    excluded_ht_cents: int = 0  # the invoices the scheme's dates leave out
    excluded_ttc_cents: int = 0

    @property
    def aid_cents(self) -> int:
        return self.aid.aid_cents

    @property
    def eligible_cents(self) -> int:
        return self.aid.eligible_cents

    @property
    def claimed_ht_cents(self) -> int:
        """The spending the claim file counts: every invoice but those the dates leave out."""
        return self.spent_ht_cents - self.excluded_ht_cents

    @property
    def claimed_ttc_cents(self) -> int:
        return self.spent_ttc_cents - self.excluded_ttc_cents

    @property
    def left_to_claim_cents(self) -> int:
        return self.aid.aid_cents - self.received_cents

    @property
    def over_received_cents(self) -> int:
        """How much the money received exceeds the computed aid (0 when it does not)."""
        return max(0, self.received_cents - self.aid.aid_cents)

    @property
    def planned_cents(self) -> int:
        return sum(v.planned_cents or 0 for v in self.volets)


def _names(dossier: Dossier) -> dict[int, str]:
    names = {s.ecole_id: s.ecole.name for s in dossier.schools}
    for e in dossier.expenses:
        for a in e.allocations:
            names.setdefault(
                a.ecole_id, a.ecole.name if "ecole" in a.__dict__ else f"#{a.ecole_id}"
            )
    return names


def invoice_label(expense: Expense) -> str:
    return f"{expense.supplier} {expense.invoice_number}"


def dossier_summary(dossier: Dossier, rules: Mapping[str, Any] | None = None) -> DossierSummary:
    """Spending, eligible spending, aid with its breakdown, received, left to claim,
    planned against spent per volet, and the invoices the scheme's dates leave out."""
    data = dossier.rules if rules is None else rules
    typed = SchemeRules.from_data(data)
    result = dossier_aid(dossier, data)
    invoices = {e.id: invoice_label(e) for e in dossier.expenses}
    lines = explain(result, typed, _facts(dossier), _names(dossier), invoices)
    volets = {
        code: VoletLine(code, label, (dossier.planned_cents or {}).get(code))
        for code, label in volets_of(data)
    }
    unknown = []
    for e in dossier.expenses:
        line = volets.get(e.volet)
        if line is None:
            unknown.append(e.volet)
            continue
        line.spent_ht_cents += e.amount_ht_cents
        line.spent_ttc_cents += e.amount_ttc_cents
    for v in result.volets:
        if v.code in volets:
            volets[v.code].eligible_cents = v.eligible_cents
            volets[v.code].aid_cents = v.aid_cents
    problems = ineligible_expenses(dossier, data)
    excluded = [e for e in dossier.expenses if e.id in problems]
    return DossierSummary(
        aid=result,
        lines=lines,
        volets=list(volets.values()),
        spent_ht_cents=sum(e.amount_ht_cents for e in dossier.expenses),
        spent_ttc_cents=sum(e.amount_ttc_cents for e in dossier.expenses),
        requested_cents=sum(p.requested_cents or 0 for p in dossier.payments),
        received_cents=sum(p.received_cents or 0 for p in dossier.payments),
        vat_included=typed.vat_included,
        unknown_volets=sorted(set(unknown)),
        rules=typed,
        ineligible={e.id: date_reason(typed, problems[e.id], e.invoice_date) for e in excluded},
        excluded_ht_cents=sum(e.amount_ht_cents for e in excluded),
        excluded_ttc_cents=sum(e.amount_ttc_cents for e in excluded),
    )


def scheme_changed(dossier: Dossier) -> bool:
    return dossier.scheme.version != dossier.scheme_version


# -- items an expense may pay for ----------------------------------------------------------
@dataclass
class Candidate:
    key: str
    kind: str
    item_id: int
    label: str
    detail: str
    school: str
    price_cents: int | None
    funded_cents: int  # by every link, this expense's included

    @property
    def left_cents(self) -> int | None:
        return None if self.price_cents is None else max(self.price_cents - self.funded_cents, 0)


def link_candidates(session: Session, user: Subject, dossier: Dossier) -> list[Candidate]:
    """The assets and works an expense of this dossier may be linked to: those of the
    covered schools (and, for assets, the collectivité's storage)."""
    covered = list(_covered_ids(dossier))
    names = {s.ecole_id: s.ecole.name for s in dossier.schools}
    assets = list(
        session.scalars(
            policy.visible(
                user,
                select(Asset)
                .where(
                    or_(
                        Asset.ecole_id.in_(covered),
                        and_(
                            Asset.ecole_id.is_(None),
                            Asset.collectivite_id == dossier.collectivite_id,
                        ),
                    ),
                    Asset.status.notin_((AssetStatus.RETIRED, AssetStatus.LOST)),
                )
                .options(
                    selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
                    selectinload(Asset.category),
                    selectinload(Asset.classroom),
                )
                .order_by(Asset.ecole_id, Asset.category_id, Asset.tag),
                Asset,
            )
        )
    )
    works = list(
        session.scalars(
            policy.visible(
                user,
                select(NetworkWork)
                .where(NetworkWork.ecole_id.in_(covered))
                .order_by(NetworkWork.ecole_id, NetworkWork.id),
                NetworkWork,
            )
        )
    )
    funded_a, funded_w = _linked_totals(
        session, [a.id for a in assets], [w.id for w in works], None
    )
    out = []
    for a in assets:
        room = a.classroom.name if a.classroom else ""
        out.append(
            Candidate(
                key=f"a:{a.id}",
                kind="asset",
                item_id=a.id,
                label=a.tag,
                detail=" · ".join(x for x in (a.model.full_name, a.serial or "", room) if x),
                school=names.get(a.ecole_id or 0, ""),
                price_cents=a.price_ttc_cents,
                funded_cents=funded_a.get(a.id, 0),
            )
        )
    for w in works:
        out.append(
            Candidate(
                key=f"w:{w.id}",
                kind="work",
                item_id=w.id,
                label=w.title,
                detail=w.contractor or "",
                school=names.get(w.ecole_id, ""),
                price_cents=w.invoice_cents,
                funded_cents=funded_w.get(w.id, 0),
            )
        )
    return out


# -- claim file rows -----------------------------------------------------------------------
def item_rows(dossier: Dossier, *, claimed_only: bool = False) -> list[dict[str, Any]]:
    """Every linked item of the dossier's expenses with what identifies it on site; with
    ``claimed_only``, of the expenses the claim counts (not those its dates leave out)."""
    rows = []
    left_out = ineligible_expenses(dossier) if claimed_only else {}
    for e in dossier.expenses:
        if e.id in left_out:
            continue
        for link in e.links:
            if link.asset is not None:
                a = link.asset
                rows.append(
                    {
                        "expense": e,
                        "kind": "asset",
                        "label": a.tag,
                        "what": f"{a.category.name_fr} – {a.model.full_name}",
                        "serial": a.serial or "",
                        "school": a.ecole.name if a.ecole else "",
                        "classroom": a.classroom.name if a.classroom else "",
                        "status": str(ASSET_STATUS_LABELS[a.status]),
                        "amount_cents": link.amount_cents,
                    }
                )
            elif link.work is not None:
                w = link.work
                rows.append(
                    {
                        "expense": e,
                        "kind": "work",
                        "label": w.title,
                        "what": str(WORK_KIND_LABELS[w.kind]),
                        "serial": "",
                        "school": w.ecole.name,
                        "classroom": ", ".join(r.name for r in w.classrooms),
                        "status": str(WORK_STATUS_LABELS[w.status]),
                        "amount_cents": link.amount_cents,
                    }
                )
    return rows


# -- reconciliation ------------------------------------------------------------------------
@dataclass
class FundedItem:
    kind: str
    item: Asset | NetworkWork
    funded_cents: int
    dossiers: list[Dossier]


@dataclass
class CapExcess:
    dossier: Dossier
    kind: str
    ecole: str | None
    volet: str | None
    spent_cents: int
    limit_cents: int

    @property
    def above_cents(self) -> int:
        return self.spent_cents - self.limit_cents


@dataclass
class OverReceived:
    """A dossier whose money received goes above its computed aid."""

    dossier: Dossier
    received_cents: int
    aid_cents: int

    @property
    def above_cents(self) -> int:
        return self.received_cents - self.aid_cents


@dataclass
class Reconciliation:
    funded_not_in_service: list[FundedItem]
    unfunded_assets: list[Asset]
    unfunded_assets_total: int
    unfunded_works: list[NetworkWork]
    deadlines: list[Dossier]
    over_caps: list[CapExcess]
    limit: int
    over_received: list[OverReceived] = field(default_factory=list)


def _funding_by_item(
    session: Session, user: Subject, column: Any, ids: list[int]
) -> tuple[dict[int, int], dict[int, list[Dossier]]]:
    if not ids:
        return {}, {}
    stmt = policy.visible(
        user,
        select(FundingLink)
        .where(column.in_(ids))
        .options(selectinload(FundingLink.expense).selectinload(Expense.dossier)),
        FundingLink,
    )
    totals: dict[int, int] = defaultdict(int)
    dossiers: dict[int, dict[int, Dossier]] = defaultdict(dict)
    for link in session.scalars(stmt):
        key = link.asset_id if link.asset_id is not None else link.work_id
        assert key is not None
        totals[key] += link.amount_cents
        d = link.expense.dossier
        dossiers[key][d.id] = d
    return dict(totals), {k: list(v.values()) for k, v in dossiers.items()}


def reconciliation(
    session: Session,
    user: Subject,
    *,
    collectivite: int | None = None,
    today: date | None = None,
    limit: int = 200,
) -> Reconciliation:
    """What the finance officer checks: funded items not yet in service, items in service
    without any funding, dossiers whose spending deadline is near, spending above caps,
    and money received above the computed aid."""
    today = today or date.today()
    funded_asset_ids = select(FundingLink.asset_id).where(
        FundingLink.asset_id.isnot(None), policy.condition(user, FundingLink)
    )
    funded_work_ids = select(FundingLink.work_id).where(
        FundingLink.work_id.isnot(None), policy.condition(user, FundingLink)
    )
    a_stmt = select(Asset).where(
        Asset.id.in_(funded_asset_ids), Asset.status.in_(NOT_YET_IN_SERVICE)
    )
    w_stmt = select(NetworkWork).where(
        NetworkWork.id.in_(funded_work_ids), NetworkWork.status.notin_(WORKS_DONE)
    )
    unfunded_a = select(Asset).where(
        Asset.status == AssetStatus.IN_SERVICE,
        ~exists().where(FundingLink.asset_id == Asset.id),
    )
    unfunded_w = select(NetworkWork).where(
        NetworkWork.status.in_(WORKS_DONE),
        ~exists().where(FundingLink.work_id == NetworkWork.id),
    )
    d_stmt = select(Dossier).where(Dossier.status.in_(OPEN_STATUSES - {DossierStatus.PAID}))
    if collectivite:
        a_stmt = a_stmt.where(Asset.collectivite_id == collectivite)
        w_stmt = w_stmt.where(NetworkWork.collectivite_id == collectivite)
        unfunded_a = unfunded_a.where(Asset.collectivite_id == collectivite)
        unfunded_w = unfunded_w.where(NetworkWork.collectivite_id == collectivite)
        d_stmt = d_stmt.where(Dossier.collectivite_id == collectivite)
    asset_opts = [
        selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
        selectinload(Asset.category),
        selectinload(Asset.ecole),
        selectinload(Asset.classroom),
    ]
    pending_assets = list(
        session.scalars(
            policy.visible(user, a_stmt, Asset)
            .options(*asset_opts)
            .order_by(Asset.tag)
            .limit(limit)
        )
    )
    pending_works = list(
        session.scalars(
            policy.visible(user, w_stmt, NetworkWork)
            .options(selectinload(NetworkWork.ecole))
            .order_by(NetworkWork.id)
            .limit(limit)
        )
    )
    totals_a, dossiers_a = _funding_by_item(
        session, user, FundingLink.asset_id, [a.id for a in pending_assets]
    )
    totals_w, dossiers_w = _funding_by_item(
        session, user, FundingLink.work_id, [w.id for w in pending_works]
    )
    funded: list[FundedItem] = [
        FundedItem("asset", a, totals_a.get(a.id, 0), dossiers_a.get(a.id, []))
        for a in pending_assets
    ] + [
        FundedItem("work", w, totals_w.get(w.id, 0), dossiers_w.get(w.id, []))
        for w in pending_works
    ]
    visible_unfunded = policy.visible(user, unfunded_a, Asset)
    unfunded_total = (
        session.scalar(select(func.count()).select_from(visible_unfunded.subquery())) or 0
    )
    unfunded_assets = list(
        session.scalars(visible_unfunded.options(*asset_opts).order_by(Asset.tag).limit(limit))
    )
    unfunded_works = list(
        session.scalars(
            policy.visible(user, unfunded_w, NetworkWork)
            .options(selectinload(NetworkWork.ecole))
            .order_by(NetworkWork.id)
            .limit(limit)
        )
    )
    visible_dossiers = policy.visible(user, d_stmt, Dossier)
    deadlines = list(
        session.scalars(
            visible_dossiers.where(
                Dossier.spending_deadline >= today,
                Dossier.spending_deadline <= today + timedelta(days=DEADLINE_DAYS),
            )
            .options(selectinload(Dossier.collectivite))
            .order_by(Dossier.spending_deadline)
        )
    )
    over: list[CapExcess] = []
    with_spending = visible_dossiers.where(
        exists().where(Expense.dossier_id == Dossier.id)
    ).options(
        selectinload(Dossier.collectivite),
        selectinload(Dossier.schools).selectinload(DossierSchool.ecole),
        selectinload(Dossier.expenses).selectinload(Expense.allocations),
    )
    for dossier in session.scalars(with_spending.order_by(Dossier.id)):
        over.extend(cap_excesses(dossier))
    received = select(Dossier).where(
        exists().where(Payment.dossier_id == Dossier.id, Payment.received_cents > 0)
    )
    if collectivite:
        received = received.where(Dossier.collectivite_id == collectivite)
    over_received = []
    for dossier in session.scalars(
        policy.visible(user, received, Dossier)
        .options(
            selectinload(Dossier.collectivite),
            selectinload(Dossier.schools).selectinload(DossierSchool.ecole),
            selectinload(Dossier.expenses).selectinload(Expense.allocations),
            selectinload(Dossier.payments),
        )
        .order_by(Dossier.id)
    ):
        total = sum(p.received_cents or 0 for p in dossier.payments)
        aid = dossier_aid(dossier).aid_cents
        if total > aid:
            over_received.append(OverReceived(dossier, total, aid))
    return Reconciliation(
        over_received=over_received,
        funded_not_in_service=funded,
        unfunded_assets=unfunded_assets,
        unfunded_assets_total=unfunded_total,
        unfunded_works=unfunded_works,
        deadlines=deadlines,
        over_caps=over,
        limit=limit,
    )


def cap_excesses(dossier: Dossier) -> list[CapExcess]:
    """Where the dossier's spending goes beyond what its rules subsidise."""
    result = dossier_aid(dossier)
    names = {s.ecole_id: s.ecole.name for s in dossier.schools}
    spent: dict[tuple[str | None, int | None], int] = {}
    out: list[CapExcess] = []
    for step in result.steps:
        if step.text == "spending":
            spent[(step.volet, step.ecole_id)] = step.amount_cents
        elif step.text == "spending_cap":
            out.append(
                CapExcess(
                    dossier,
                    "spending_cap",
                    names.get(step.ecole_id or 0),
                    step.volet,
                    spent.get((step.volet, step.ecole_id), 0),
                    step.amount_cents,
                )
            )
        elif step.text == "convention_max":
            out.append(
                CapExcess(
                    dossier,
                    "convention_max",
                    None,
                    None,
                    step.params["computed"],
                    step.amount_cents,
                )
            )
    return out


def volet_label(rules: Mapping[str, Any], code: str | None) -> str:
    return dict(volets_of(rules)).get(code or "", code or "")
