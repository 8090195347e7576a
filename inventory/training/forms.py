"""Accompaniment forms: filters, planning, record, attachments, coverage.

Choices that depend on the user's scope (schools, items, trainers, expenses, classrooms)
are filled in by the views; the services check every value again.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from inventory.core.forms import options
from inventory.orgs.forms import MultiCheckboxField
from inventory.training.choices import FORMAT_LABELS, MODE_LABELS, ROLE_LABELS
from inventory.training.coverage import COVERAGE_SHOW, MAX_DELAY_DAYS
from inventory.training.sessions import MAX_COUNT, MAX_DURATION, MIN_DURATION

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
SATISFACTION = {
    1: _l("1 — very dissatisfied"),
    2: _l("2 — dissatisfied"),
    3: _l("3 — mixed"),
    4: _l("4 — satisfied"),
    5: _l("5 — very satisfied"),
}
SHOW_LABELS = {
    "overdue": _l("Equipped, not accompanied after the delay"),
    "waiting": _l("Equipped, not accompanied yet"),
    "equipped": _l("Equipped"),
    "accompanied": _l("Equipped and accompanied"),
    "all": _l("All schools"),
}


class SessionFilterForm(FlaskForm):
    """A GET search form: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=options(
            [
                ("", _l("All statuses")),
                ("planned", _l("planned")),
                ("to_record", _l("to record")),
                ("held", _l("held")),
                ("cancelled", _l("cancelled")),
            ]
        ),
        validate_choice=False,
    )
    ecole = SelectField(_l("School"), coerce=int, validate_choice=False)
    trainer = SelectField(_l("Trainer"), coerce=int, validate_choice=False)
    since = DateField(_l("From"), validators=[Optional()], format=DATE_FORMATS)
    until = DateField(_l("To"), validators=[Optional()], format=DATE_FORMATS)


class ExternalTrainerForm(Form):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=150)])
    organisation = StringField(
        _l("Organisation"),
        validators=[Optional(), Length(max=150)],
        description=_l("e.g. Canopé, the supplier, the commune"),
    )


class SessionForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("e.g. Getting started with the new interactive screens"),
    )
    day = DateField(_l("Date"), validators=[DataRequired()], format=DATE_FORMATS)
    start = TimeField(
        _l("Start time"), validators=[DataRequired()], description=_l("Paris time, e.g. 14:30")
    )
    duration = IntegerField(
        _l("Duration in minutes"),
        validators=[InputRequired(), NumberRange(min=MIN_DURATION, max=MAX_DURATION)],
    )
    mode = SelectField(_l("Mode"), choices=options((m.value, lb) for m, lb in MODE_LABELS.items()))
    format = SelectField(
        _l("Format"), choices=options((f.value, lb) for f, lb in FORMAT_LABELS.items())
    )
    place = StringField(
        _l("Place"),
        validators=[Optional(), Length(max=200)],
        description=_l("Room or address; for a remote session, how to join"),
    )
    schools = SelectMultipleField(
        _l("Schools"),
        coerce=int,
        validate_choice=False,
        description=_l("One or more schools of your scope (Ctrl or ⌘ + click to choose several)"),
    )
    topics = MultiCheckboxField(_l("Topics"), coerce=int, validate_choice=False)
    categories = MultiCheckboxField(_l("Equipment covered"), coerce=int, validate_choice=False)
    assets = SelectMultipleField(
        _l("Specific items"),
        coerce=int,
        validate_choice=False,
        description=_l(
            "Items of the chosen schools; press «Show their equipment» after changing the schools"
        ),
    )
    trainer_users = MultiCheckboxField(_l("Trainers"), coerce=int, validate_choice=False)
    external = FieldList(
        FormField(ExternalTrainerForm),
        label=_l("Trainers without a Socle account"),
        min_entries=2,
        max_entries=10,
    )
    expense = SelectField(
        _l("Funding"),
        coerce=int,
        validate_choice=False,
        description=_l("An expense of the accompaniment volet of a dossier covering the schools"),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    version = HiddenField()


class AttendeeForm(Form):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=150)])
    role = SelectField(_l("Role"), choices=options((r.value, lb) for r, lb in ROLE_LABELS.items()))
    ecole = SelectField(_l("School"), coerce=int, validate_choice=False)
    classroom = SelectField(_l("Classroom"), coerce=int, validate_choice=False)


class ActionForm(Form):
    text = StringField(_l("Follow-up action"), validators=[Optional(), Length(max=300)])
    due_on = DateField(_l("Due on"), validators=[Optional()], format=DATE_FORMATS)
    done = BooleanField(_l("Done"))


def _count_field(label: str) -> IntegerField:
    return IntegerField(
        label,
        validators=[InputRequired(), NumberRange(min=0, max=MAX_COUNT)],
        description=_l("0 if nobody"),
    )


class RecordForm(FlaskForm):
    teachers = _count_field(_l("Teachers"))
    directors = _count_field(_l("School directors"))
    municipal_staff = _count_field(_l("Municipal staff"))
    satisfaction = SelectField(
        _l("Participants' satisfaction"),
        default="",
        choices=options([("", _l("not asked")), *((str(k), v) for k, v in SATISFACTION.items())]),
    )
    feedback = TextAreaField(_l("Participants' feedback"), validators=[Length(max=10000)])
    attendees = FieldList(
        FormField(AttendeeForm), label=_l("Named participants"), min_entries=0, max_entries=300
    )
    actions = FieldList(
        FormField(ActionForm), label=_l("Follow-up actions"), min_entries=0, max_entries=60
    )
    version = HiddenField()


class DocumentForm(FlaskForm):
    file = FileField(
        _l("File"),
        validators=[FileRequired(_l("Choose a file."))],
        description=_l("PDF, JPEG, PNG, ODP, PPTX or DOCX, 20 MB at most"),
    )


class VersionForm(FlaskForm):
    """Cancel or plan again: the version the page was loaded with."""

    version = HiddenField()


class CoverageForm(FlaskForm):
    class Meta:
        csrf = False

    days = IntegerField(
        _l("Delay in days"),
        validators=[Optional(), NumberRange(min=0, max=MAX_DELAY_DAYS)],
        description=_l("Equipped schools waiting longer than this are listed"),
    )
    circonscription = SelectField(_l("Circonscription"), coerce=int, validate_choice=False)
    collectivite = SelectField(_l("Collectivité"), coerce=int, validate_choice=False)
    show = SelectField(
        _l("Schools shown"),
        choices=options((k, SHOW_LABELS[k]) for k in COVERAGE_SHOW),
        validate_choice=False,
    )
