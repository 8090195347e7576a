"""The aid of a dossier from the pure engine (:mod:`inventory.grants.aid`), and its
breakdown per volet, per school and per line in sentences a finance officer can check
with a calculator; the summary the dossier page, the claim file and the CLI show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from inventory.grants.aid import (
    AidResult,
    CapBasis,
    DateProblem,
    SchemeRules,
    SchoolFacts,
    Spending,
    Step,
    compute_aid,
)
from inventory.grants.common import money, percent
from inventory.grants.expenses import ineligible_expenses
from inventory.grants.models import Dossier, Expense
from inventory.grants.schemes import date_reason, volets_of


def _facts(dossier: Dossier) -> list[SchoolFacts]:
    return [SchoolFacts(s.ecole_id, s.ecole.name, s.classes, s.pupils) for s in dossier.schools]


def _spending(dossier: Dossier) -> list[Spending]:
    return [
        Spending(e.volet, a.ecole_id, a.amount_ht_cents, a.amount_ttc_cents, e.invoice_date, e.id)
        for e in dossier.expenses
        for a in e.allocations
    ]


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
