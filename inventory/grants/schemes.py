"""Funding schemes: the shipped presets, the rules an administrator writes (checked), the
scheme's dates (spending window, claim deadline) and how they read, and the editor's save."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.core import policy
from inventory.core.policy import Action, Subject
from inventory.grants import referentiels
from inventory.grants.aid import DATE_KEYS, DateProblem, SchemeRules
from inventory.grants.common import GrantError, day
from inventory.grants.models import FundingScheme
from inventory.grants.presets import PRESETS


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
                label_emblem=bool(preset.get("label_emblem")),
                label_france_relance=bool(preset.get("label_france_relance")),
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


def scheme_by_id(session: Session, scheme_id: int) -> FundingScheme:
    """A scheme named by its id (schemes are the programme's, read by everyone)."""
    found = session.get(FundingScheme, scheme_id)
    if found is None:
        raise GrantError(_l("Unknown scheme."), field="scheme")
    return found


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
    label_emblem: bool = False
    label_france_relance: bool = False
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
        if scheme.rules != rules:
            scheme.rules = rules
            scheme.version = scheme.version + 1
    session.commit()
    return scheme


def volets_of(rules: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(v["code"], v.get("label", v["code"])) for v in rules.get("volets", [])]


def volet_label(rules: Mapping[str, Any], code: str | None) -> str:
    return dict(volets_of(rules)).get(code or "", code or "")
