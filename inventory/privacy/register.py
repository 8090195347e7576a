"""The register of processing (registre des traitements, RGPD art. 30) as data: each
processing of personal data Socle carries out, its purpose, legal basis, the people and
data concerned, who receives them and how long they are kept. The printable page and
the privacy notice read it; the retention of reporters' contacts is the configured one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Processing:
    code: str
    name: Any
    purpose: Any
    basis: Any
    people: Any
    data: Any
    recipients: Any
    retention: Any


def processings(config: Mapping[str, Any]) -> list[Processing]:
    months = int(config.get("REPORTER_CONTACT_RETENTION_MONTHS", 6))
    public_task = _l("Public task (RGPD art. 6.1.e): the equipment of public schools")
    return [
        Processing(
            "reports",
            _l("Problem reports from the equipment's labels"),
            _l("Repair the equipment a teacher reports, and tell the reporter what happens."),
            public_task,
            _l("Teachers and school staff who report a problem"),
            _l("Name and email address (optional), the description, a photo without metadata"),
            _l("The IT staff of the collectivité that owns the school"),
            _l(
                "Name and address deleted %(months)s months after the ticket closes; the "
                "ticket itself is kept with the equipment's history.",
                months=months,
            ),
        ),
        Processing(
            "accounts",
            _l("Staff accounts"),
            _l("Sign-in and the rights of each role over its scope."),
            public_task,
            _l("Staff of the collectivités, the académies and the circonscriptions"),
            _l("Name, professional email address, role, scope, dates of sign-in"),
            _l("The application's administrators"),
            _l("As long as the account is active; deactivated accounts sign the change log."),
        ),
        Processing(
            "training",
            _l("Accompaniment and training sessions"),
            _l("Plan the sessions and keep the attendance the programme reports."),
            public_task,
            _l("Trainers and participating teachers"),
            _l("Names of the trainers and of the named participants (optional)"),
            _l("Trainers and the académie's steering staff"),
            _l("The duration of the programme and its audit."),
        ),
        Processing(
            "changelog",
            _l("Change log"),
            _l("Trace every change to the records (who, when, what) for the programme's audit."),
            _l("Legal obligation and public task: the audit of public funding"),
            _l("Staff who change a record"),
            _l(
                "Name of the author, address of the connection; never the reporters' "
                "contact data (recorded as given or deleted, without its value)"
            ),
            _l("Administrators and auditors within their scope"),
            _l("The duration of the programme and its audit (append-only)."),
        ),
        Processing(
            "mail",
            _l("Notifications by email"),
            _l("Tell reporters and staff of the tickets' progress, send the digests."),
            public_task,
            _l("Reporters who gave an address, staff who subscribed"),
            _l("Email address, the message sent"),
            _l("The mail server of the operator"),
            _l("Deleted with the person's data on request."),
        ),
    ]
