"""The loans domain's forms; choices that depend on the scope are filled by the views and
every value is checked again by the services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from inventory.core.forms import options
from inventory.loans.models import BorrowerKind, Condition
from inventory.loans.rules import BORROWER_LABELS, CONDITION_LABELS
from inventory.orgs.forms import MultiCheckboxField

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class KitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=150)])
    active = BooleanField(_l("Offered for booking"), default=True)
    asset_ids = MultiCheckboxField(_l("Items of the kit"), coerce=int, choices=[])
    version = HiddenField()


class BookingForm(FlaskForm):
    day = DateField(_l("Day"), validators=[InputRequired()], format=DATE_FORMATS)
    start = TimeField(_l("From"), validators=[InputRequired()])
    end = TimeField(_l("To"), validators=[InputRequired()])
    group_label = StringField(
        _l("Class"), validators=[DataRequired(), Length(max=60)], description=_l("CM1 B, CE2…")
    )
    booked_by = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    until = DateField(
        _l("Every week until"),
        validators=[Optional()],
        format=DATE_FORMATS,
        description=_l(
            "Leave empty for one booking; give the term's last day for a weekly series."
        ),
    )


class CancelForm(FlaskForm):
    series = BooleanField(_l("Also the later bookings of the series"))


class LoanForm(FlaskForm):
    borrower_kind = SelectField(
        _l("Lent to"),
        choices=options((k.value, BORROWER_LABELS[k]) for k in BorrowerKind),
        default=BorrowerKind.FAMILY.value,
    )
    classroom_id = SelectField(_l("Classroom"), coerce=int, choices=[], validate_choice=False)
    staff_name = StringField(_l("Staff member"), validators=[Length(max=120)])
    pupil_first_name = StringField(_l("Pupil's first name"), validators=[Length(max=60)])
    pupil_class = StringField(_l("Pupil's class"), validators=[Length(max=30)])
    guardian_name = StringField(_l("Guardian's name"), validators=[Length(max=120)])
    guardian_contact = StringField(
        _l("Guardian's contact"),
        validators=[Length(max=200)],
        description=_l("An e-mail address (for the reminders) or a phone number."),
    )
    starts_on = DateField(_l("Lent on"), validators=[InputRequired()], format=DATE_FORMATS)
    due_on = DateField(_l("To be returned by"), validators=[InputRequired()], format=DATE_FORMATS)
    condition_out = SelectField(
        _l("Condition"),
        choices=options(
            (c.value, CONDITION_LABELS[c]) for c in Condition if c is not Condition.MISSING
        ),
        default=Condition.GOOD.value,
    )


class ReturnForm(FlaskForm):
    returned_on = DateField(_l("Returned on"), validators=[InputRequired()], format=DATE_FORMATS)
    condition_in = SelectField(
        _l("Condition at the return"),
        choices=options((c.value, CONDITION_LABELS[c]) for c in Condition),
        default=Condition.GOOD.value,
    )
    return_notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])
    version = HiddenField()


class ScanForm(FlaskForm):
    """One scanned (or typed) code; the items scanned so far ride along."""

    code = StringField(_l("Label code or asset tag"), validators=[Length(max=200)])
    seen = HiddenField()
    classroom_id = SelectField(_l("Classroom"), coerce=int, choices=[], validate_choice=False)
    due_on = DateField(_l("To be returned by"), validators=[Optional()], format=DATE_FORMATS)
    missing_lost = BooleanField(_l("Record the items not scanned as missing (opens a ticket)"))


class TermsForm(FlaskForm):
    text = TextAreaField(
        _l("Conditions printed on the loan agreements"),
        validators=[DataRequired(), Length(max=8000)],
    )
    version = HiddenField()
