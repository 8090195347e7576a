"""Helpdesk forms: the public report, the staff's work on a ticket, the queue's filters,
notification choices and inventory campaigns. Choices that depend on the item or the
user's scope are filled in by the views; the services check every value again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from inventory.core.forms import options
from inventory.helpdesk.notify import MODE_LABELS, MODES
from inventory.helpdesk.rules import DESCRIPTION_MAX, MESSAGE_MAX


class ReportForm(FlaskForm):
    """What a teacher sends from the label's page; ``website`` is a trap for robots.

    No CSRF token: the form acts in no one's name (a report is anyone's to send, without
    an account), and a token would give every first scan of a label a session cookie.
    The trap field and the rate limits guard it instead."""

    class Meta:
        csrf = False

    problem = RadioField(
        _l("What is the problem?"),
        coerce=int,
        validators=[InputRequired(message=_l("Choose the problem."))],
        validate_choice=False,
    )
    description = TextAreaField(
        _l("Describe the problem"),
        validators=[
            DataRequired(message=_l("Describe the problem in a few words.")),
            Length(max=DESCRIPTION_MAX),
        ],
        description=_l("What happens, since when, what you tried."),
    )
    photo = FileField(
        _l("Photo (optional)"),
        description=_l("JPEG, PNG, WebP or HEIC, at most 8 MB."),
        render_kw={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif"},
    )
    name = StringField(
        _l("Your name (optional)"),
        validators=[Optional(), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Your email (optional)"),
        validators=[
            Optional(),
            Length(max=254),
            Email(message=_l("This is not an email address.")),
        ],
        description=_l("To receive news of your report by mail. It is never shown on this page."),
        render_kw={"autocomplete": "email"},
    )
    website = StringField(
        _l("Leave this field empty"),
        validators=[Optional()],
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )
    join = HiddenField(label="")  # "1": join the same open problem


class _Versioned(FlaskForm):
    version = HiddenField()

    def version_number(self) -> int | None:
        value = self.version.data or ""
        return int(value) if value.isdigit() else None


class AssignForm(_Versioned):
    assignee = SelectField(_l("Assigned to"), coerce=int, validate_choice=False)


class StatusForm(_Versioned):
    status = SelectField(_l("New status"), validate_choice=False)
    note = TextAreaField(
        _l("Message to the reporter (optional)"),
        validators=[Optional(), Length(max=DESCRIPTION_MAX)],
    )


class ResolveForm(_Versioned):
    resolution = TextAreaField(
        _l("Resolution"),
        validators=[
            DataRequired(message=_l("Describe what was done.")),
            Length(max=DESCRIPTION_MAX),
        ],
        description=_l("What was done: the reporter reads it."),
    )
    # Offered when the ticket's item is under repair: it goes back in service with the
    # resolution, in the same save.
    back_in_service = BooleanField(_l("Put the item back in service"))


class RepairForm(_Versioned):
    """Put the ticket's item under repair: the ticket's version and the item's."""

    asset_version = HiddenField()
    repair_note = TextAreaField(
        _l("Note on the item's life (optional)"),
        validators=[Optional(), Length(max=500)],
    )

    def asset_version_number(self) -> int | None:
        value = self.asset_version.data or ""
        return int(value) if value.isdigit() else None


class MessageForm(_Versioned):
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(message=_l("Write the message.")), Length(max=MESSAGE_MAX)],
    )
    visibility = RadioField(
        _l("Who reads it"),
        choices=options(
            [
                ("internal", _l("The staff only (internal note)")),
                ("public", _l("The reporter too (sent by mail)")),
            ]
        ),
        default="internal",
    )


class TicketFilterForm(FlaskForm):
    """A GET search form: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validate_choice=False)
    ecole = SelectField(_l("School"), coerce=int, validate_choice=False)
    problem_type = SelectField(_l("Problem"), coerce=int, validate_choice=False)
    older_than = SelectField(_l("Reported"), coerce=int, validate_choice=False)
    assignee = SelectField(_l("Assigned to"), validate_choice=False)


class SubscriptionForm(FlaskForm):
    mode = RadioField(
        _l("Mail me about new reports"),
        choices=options((m, MODE_LABELS[m]) for m in MODES),
        validators=[InputRequired(message=_l("Choose how to be told."))],
    )


class CampaignStartForm(FlaskForm):
    ecole = SelectField(_l("School"), coerce=int, validate_choice=False)


class RoomForm(FlaskForm):
    classroom = SelectField(_l("Classroom to check"), coerce=int, validate_choice=False)


class ScanForm(FlaskForm):
    classroom = HiddenField()
    code = StringField(
        _l("Asset tag or label code"),
        validators=[DataRequired(message=_l("Type or scan a code.")), Length(max=200)],
        description=_l("Type the tag written on the label, or paste the scanned address."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class MoveForm(FlaskForm):
    scan = HiddenField()
