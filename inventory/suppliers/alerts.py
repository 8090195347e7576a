"""Alerts before things end: a subscription's service, a contract, an item's warranty.

The periodic job (tasks.py) runs :func:`send_expiry_alerts` each morning. A thing gets
its alert when it ends within a threshold (``EXPIRY_ALERT_DAYS`` for subscriptions and
contracts, ``WARRANTY_ALERT_DAYS`` for warranties: days before the end, configurable),
once per thing, end date and threshold, whichever day the job first sees it (a late run
sends the nearest threshold's alert, and the farther ones are counted as passed). Each
member of the collectivité's staff gets one mail listing its collectivité's alerts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from inventory.assets.models import Asset, AssetStatus, DigitalService
from inventory.auth.models import User, UserScope
from inventory.core import addresses
from inventory.core.mail import send_mail
from inventory.core.policy import Role, ScopeKind
from inventory.suppliers.models import AlertSubject, Contract, ExpiryAlert, ServiceSubscription

DEFAULT_EXPIRY_DAYS = (90,)
DEFAULT_WARRANTY_DAYS = (30,)
# Who hears of what: the finance staff of subscriptions, the technicians of warranties.
AUDIENCE = {
    AlertSubject.SUBSCRIPTION: frozenset({Role.GESTIONNAIRE, Role.TECHNICIEN}),
    AlertSubject.CONTRACT: frozenset({Role.GESTIONNAIRE, Role.TECHNICIEN}),
    AlertSubject.WARRANTY: frozenset({Role.TECHNICIEN}),
}


@dataclass(frozen=True)
class Due:
    subject: AlertSubject
    object_id: int
    collectivite_id: int
    ends_on: date
    line: str


def thresholds(config: Any, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
    value = config.get(key) or default
    return tuple(sorted({int(d) for d in value if int(d) >= 0}))


def _candidates(session: Session, today: date, horizon: date, base: str) -> list[Due]:
    due: list[Due] = []
    for sub, service in session.execute(
        select(ServiceSubscription, DigitalService)
        .join(DigitalService, DigitalService.id == ServiceSubscription.service_id)
        .where(DigitalService.ends_on >= today, DigitalService.ends_on <= horizon)
        .order_by(DigitalService.ends_on, ServiceSubscription.id)
    ):
        due.append(
            Due(
                AlertSubject.SUBSCRIPTION,
                sub.id,
                service.collectivite_id,
                service.ends_on,  # type: ignore[arg-type]
                str(
                    _l(
                        "Subscription «%(name)s» ends on %(day)s%(renews)s: %(url)s",
                        name=service.name,
                        day=service.ends_on.strftime("%d/%m/%Y"),  # type: ignore[union-attr]
                        renews=_l(" (renews itself)") if sub.renews else "",
                        url=f"{base}/abonnements/{service.id}",
                    )
                ),
            )
        )
    for contract in session.scalars(
        select(Contract)
        .where(Contract.ends_on >= today, Contract.ends_on <= horizon)
        .order_by(Contract.ends_on, Contract.id)
    ):
        due.append(
            Due(
                AlertSubject.CONTRACT,
                contract.id,
                contract.collectivite_id,
                contract.ends_on,
                str(
                    _l(
                        "Contract %(ref)s «%(title)s» ends on %(day)s: %(url)s",
                        ref=contract.reference,
                        title=contract.title,
                        day=contract.ends_on.strftime("%d/%m/%Y"),
                        url=f"{base}/contrats/{contract.id}",
                    )
                ),
            )
        )
    return due


def _warranties(session: Session, today: date, horizon: date, base: str) -> list[Due]:
    return [
        Due(
            AlertSubject.WARRANTY,
            asset.id,
            asset.collectivite_id,
            asset.warranty_end,  # type: ignore[arg-type]
            str(
                _l(
                    "Warranty of %(tag)s ends on %(day)s: %(url)s",
                    tag=asset.tag,
                    day=asset.warranty_end.strftime("%d/%m/%Y"),  # type: ignore[union-attr]
                    url=f"{base}/equipements/{asset.id}",
                )
            ),
        )
        for asset in session.scalars(
            select(Asset)
            .where(
                Asset.warranty_end >= today,
                Asset.warranty_end <= horizon,
                Asset.status.not_in([AssetStatus.RETIRED, AssetStatus.LOST]),
            )
            .order_by(Asset.warranty_end, Asset.id)
        )
    ]


def _to_send(
    session: Session, due: Iterable[Due], days: tuple[int, ...], today: date
) -> list[tuple[Due, list[int]]]:
    """Each thing whose nearest threshold has no alert yet, with the thresholds it passed."""
    rows = list(due)
    sent: set[tuple[str, int, date, int]] = set()
    keys = [(d.subject.value, d.object_id) for d in rows]
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        sent.update(
            (str(a.subject), a.object_id, a.ends_on, a.days_before)
            for a in session.scalars(
                select(ExpiryAlert).where(
                    tuple_(ExpiryAlert.subject, ExpiryAlert.object_id).in_(chunk)
                )
            )
        )
    out = []
    for d in rows:
        already = {t for t in days if (d.subject.value, d.object_id, d.ends_on, t) in sent}
        if passed := thresholds_to_send((d.ends_on - today).days, days, already):
            out.append((d, passed))
    return out


def thresholds_to_send(left: int, days: Iterable[int], already: set[int]) -> list[int]:
    """The thresholds to record for something ending in ``left`` days: every one passed
    and not recorded yet, if the nearest passed one (the smallest) is not; else none."""
    passed = sorted(t for t in days if t >= left)
    if not passed or passed[0] in already:
        return []
    return [t for t in passed if t not in already]


def _staff(session: Session, collectivite_ids: Iterable[int]) -> dict[int, list[User]]:
    staff: dict[int, list[User]] = defaultdict(list)
    for user, ref_id in session.execute(
        select(User, UserScope.ref_id)
        .join(UserScope, UserScope.user_id == User.id)
        .where(
            User.active.is_(True),
            User.role.in_([Role.GESTIONNAIRE, Role.TECHNICIEN]),
            UserScope.kind == ScopeKind.COLLECTIVITE,
            UserScope.ref_id.in_(list(collectivite_ids)),
        )
        .order_by(User.id)
    ):
        staff[ref_id].append(user)
    return staff


def send_expiry_alerts(session: Session, config: Any, today: date) -> int:
    """Write the alerts due ``today`` to the outbox and record them; how many things were
    alerted. Commits."""
    base = addresses.base_url(config) or ""
    expiry = thresholds(config, "EXPIRY_ALERT_DAYS", DEFAULT_EXPIRY_DAYS)
    warranty = thresholds(config, "WARRANTY_ALERT_DAYS", DEFAULT_WARRANTY_DAYS)
    locale = str(config.get("BABEL_DEFAULT_LOCALE") or "fr")
    with force_locale(locale):
        pending: list[tuple[Due, list[int]]] = []
        if expiry:
            horizon = today + timedelta(days=max(expiry))
            pending += _to_send(session, _candidates(session, today, horizon, base), expiry, today)
        if warranty:
            horizon = today + timedelta(days=max(warranty))
            pending += _to_send(
                session, _warranties(session, today, horizon, base), warranty, today
            )
        staff = _staff(session, {d.collectivite_id for d, _ in pending})
        mails: dict[tuple[int, int], list[str]] = defaultdict(list)
        people: dict[int, User] = {}
        for d, passed in pending:
            told = [u for u in staff.get(d.collectivite_id, []) if u.role in AUDIENCE[d.subject]]
            for user in told:
                mails[(d.collectivite_id, user.id)].append(d.line)
                people[user.id] = user
            for t in passed:
                session.add(
                    ExpiryAlert(
                        subject=d.subject,
                        object_id=d.object_id,
                        ends_on=d.ends_on,
                        days_before=t,
                        recipients=len(told),
                    )
                )
        for (_coll, user_id), lines in mails.items():
            subject = str(_l("[Socle] Coming to an end: %(n)d", n=len(lines)))
            intro = str(_l("These subscriptions, contracts or warranties end soon:"))
            send_mail(session, config, people[user_id].email, subject, "\n\n".join([intro, *lines]))
    session.commit()
    return len(pending)
