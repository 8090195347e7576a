"""The suppliers' forms: one per use case."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from inventory.assets.forms import DATE_FORMATS, DigitalServiceForm
from inventory.assets.models import Asset
from inventory.core.forms import options
from inventory.grants.forms import MoneyField
from inventory.orgs.forms import MultiCheckboxField
from inventory.suppliers.maintenance import WorkFields
from inventory.suppliers.models import Supplier
from inventory.suppliers.rules import CLAIM_STATUS_LABELS, CONTRACT_KIND_LABELS

AMOUNT_HINT = _l("In euros, e.g. 1 234,56")


def _date(label: object, required: bool = False) -> DateField:
    return DateField(
        label, validators=[DataRequired() if required else Optional()], format=DATE_FORMATS
    )


class SupplierForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=150)])
    siret = StringField(
        _l("SIRET"),
        validators=[Optional(), Length(max=20)],
        description=_l("14 digits; the last is a check digit."),
    )
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=1000)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    version = HiddenField()


class ContractForm(FlaskForm):
    kind = SelectField(
        _l("Kind of contract"),
        choices=options((k.value, label) for k, label in CONTRACT_KIND_LABELS.items()),
    )
    reference = StringField(_l("Reference"), validators=[DataRequired(), Length(max=60)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    starts_on = _date(_l("Start"), required=True)
    ends_on = _date(_l("End"), required=True)
    cost = MoneyField(_l("Cost per year"), description=AMOUNT_HINT)
    items = TextAreaField(
        _l("Items covered"),
        validators=[Optional(), Length(max=20000)],
        description=_l("Their asset tags, separated by spaces, commas or lines."),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    version = HiddenField()


class SubscriptionForm(DigitalServiceForm):
    supplier = SelectField(_l("Supplier"), coerce=int, validate_choice=False)
    seats_bought = IntegerField(_l("Seats bought"), validators=[Optional(), NumberRange(min=0)])
    seats_used = IntegerField(_l("Seats used"), validators=[Optional(), NumberRange(min=0)])
    cost = MoneyField(_l("Cost per year"), description=AMOUNT_HINT)
    renews = BooleanField(_l("Renews itself"))
    expense = SelectField(_l("Invoice that paid for it"), coerce=int, validate_choice=False)
    classrooms = MultiCheckboxField(
        _l("Limited to these classrooms"), coerce=int, validate_choice=False
    )


class MaintenanceForm(FlaskForm):
    """Maintenance done on an item (its page's, a planned visit's, a ticket's)."""

    done_on = _date(_l("Done on"), required=True)
    description = StringField(_l("What was done"), validators=[DataRequired(), Length(max=300)])
    supplier = SelectField(_l("Supplier"), coerce=int, validate_choice=False)
    cost = MoneyField(_l("Cost incl. VAT"), description=AMOUNT_HINT)
    duration = IntegerField(
        _l("Duration (minutes)"), validators=[Optional(), NumberRange(min=0, max=100000)]
    )
    under_warranty = BooleanField(_l("Under warranty"))
    version = HiddenField()

    def prepare(self, asset: Asset, suppliers: list[Supplier], today: date) -> None:
        """The item's suppliers to choose from; when first shown, its own, today, and
        under warranty if it still is."""
        self.supplier.choices = options([(0, _l("None")), *((s.id, s.name) for s in suppliers)])
        if not self.is_submitted():
            self.supplier.data = asset.supplier_id or 0
            self.done_on.data = today
            self.under_warranty.data = bool(asset.warranty_end and asset.warranty_end >= today)

    def work_fields(self) -> WorkFields:
        return WorkFields(
            done_on=self.done_on.data,
            description=self.description.data or "",
            cost_cents=self.cost.data,
            duration_minutes=self.duration.data,
            under_warranty=bool(self.under_warranty.data),
            supplier_id=self.supplier.data or None,
        )


class PlanForm(FlaskForm):
    title = StringField(_l("Visit"), validators=[DataRequired(), Length(max=200)])
    every_months = IntegerField(
        _l("Every (months)"), validators=[DataRequired(), NumberRange(min=1, max=120)]
    )
    next_due = _date(_l("First visit due"), required=True)
    supplier = SelectField(_l("Supplier"), coerce=int, validate_choice=False)


class ClaimForm(FlaskForm):
    supplier = SelectField(_l("Supplier"), coerce=int, validate_choice=False)
    problem = TextAreaField(_l("The problem"), validators=[DataRequired(), Length(max=5000)])


class ClaimAnswerForm(FlaskForm):
    """What the supplier answered a warranty claim (or, awaiting, their reference)."""

    status = SelectField(
        _l("Where the claim stands"),
        choices=options((k.value, label) for k, label in CLAIM_STATUS_LABELS.items()),
    )
    answered_on = _date(_l("Day of the answer"))
    reference = StringField(
        _l("The supplier's reference"),
        validators=[Optional(), Length(max=60)],
        description=_l("Their case or return number, if they gave one."),
    )
    answer = TextAreaField(_l("What the supplier said"), validators=[Optional(), Length(max=5000)])
    version = HiddenField()


class LinkSupplierForm(FlaskForm):
    supplier = SelectField(_l("Supplier"), coerce=int, validate_choice=False)


class ImportForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"))
