"""Grant forms: dossier, schools covered, planned amounts, expenses, payments, documents,
status, schemes. Amounts are typed as people write them ('1 234,56') and kept in cents."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import format_decimal
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
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from inventory.core.forms import options
from inventory.core.money import AmountError, parse_amount
from inventory.grants.documents import DOCUMENT_KINDS
from inventory.grants.models import PaymentKind
from inventory.grants.payments import PAYMENT_KIND_LABELS


def amount_text(cents: int | None) -> str:
    """Cents as typed back in a field: '1234,56' in French, '1234.56' in English."""
    return "" if cents is None else format_decimal(Decimal(cents) / 100, format="0.00")


class MoneyField(StringField):
    """A euro amount; ``data`` is in cents (None when empty)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        try:
            self.data = parse_amount(valuelist[0])
        except AmountError:
            self.data = None
            raise ValueError(
                _l("«%(value)s» is not an amount in euros.", value=valuelist[0])
            ) from None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return amount_text(self.data)


class VersionField(HiddenField):
    """The version of the record the form was loaded from."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        value = valuelist[0] if valuelist else ""
        self.data = int(value) if str(value).isdigit() else None


# -- dossiers ------------------------------------------------------------------------------
class DossierStartForm(FlaskForm):
    """Step one of a new dossier (a GET form): which collectivité, which scheme."""

    class Meta:
        csrf = False

    collectivite = SelectField(_l("Collectivité"), coerce=int, validate_choice=False)
    scheme = SelectField(_l("Funding scheme"), coerce=int, validate_choice=False)


class SchoolRowForm(Form):
    ecole_id = HiddenField()
    covered = BooleanField(_l("Covered"))
    classes = IntegerField(_l("Classes"), validators=[Optional(), NumberRange(min=0, max=1000)])
    pupils = IntegerField(_l("Pupils"), validators=[Optional(), NumberRange(min=0, max=100_000)])


class PlannedRowForm(Form):
    code = HiddenField()
    amount = MoneyField(_l("Planned"))


class DossierForm(FlaskForm):
    version = VersionField()
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    reference = StringField(
        _l("Reference"),
        validators=[Optional(), Length(max=60)],
        description=_l("The dossier number on Démarches simplifiées."),
    )
    convention_max = MoneyField(
        _l("Maximum subsidy of the convention"),
        description=_l("In euros, as the convention states it."),
    )
    decision_on = DateField(_l("Award decision on"), validators=[Optional()])
    convention_signed_on = DateField(_l("Convention signed on"), validators=[Optional()])
    spending_deadline = DateField(_l("Spending deadline"), validators=[Optional()])
    schools = FieldList(FormField(SchoolRowForm))
    planned = FieldList(FormField(PlannedRowForm))


class DossierFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validate_choice=False)
    collectivite = SelectField(_l("Collectivité"), coerce=int, validate_choice=False)


class StatusForm(FlaskForm):
    version = VersionField()
    status = SelectField(_l("New status"), validators=[DataRequired()])


class VersionForm(FlaskForm):
    """A button that acts on one version of a record (apply the rules, delete)."""

    version = VersionField()


# -- expenses ------------------------------------------------------------------------------
class AllocationRowForm(Form):
    ecole_id = HiddenField()
    amount_ht = MoneyField(_l("Excl. VAT"))
    amount_ttc = MoneyField(_l("Incl. VAT"))


class LinkRowForm(Form):
    item = HiddenField()
    chosen = BooleanField(_l("Paid by this invoice"))
    amount = MoneyField(
        _l("Amount"), description=_l("Empty: what the item's price leaves to fund.")
    )


class ExpenseForm(FlaskForm):
    version = VersionField()
    volet = SelectField(_l("Volet"), validators=[DataRequired()])
    supplier = StringField(_l("Supplier"), validators=[DataRequired(), Length(max=150)])
    invoice_number = StringField(_l("Invoice number"), validators=[DataRequired(), Length(max=60)])
    invoice_date = DateField(_l("Invoice date"), validators=[Optional()])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=300)])
    amount_ht = MoneyField(_l("Amount excluding VAT"), validators=[InputRequired()])
    amount_ttc = MoneyField(_l("Amount including VAT"), validators=[InputRequired()])
    invoice_file = FileField(
        _l("Invoice (PDF, JPEG or PNG, 10 MB at most)"),
        description=_l("Optional. A new file replaces the previous one."),
    )
    allocations = FieldList(FormField(AllocationRowForm))
    links = FieldList(FormField(LinkRowForm))


# -- payments and documents ----------------------------------------------------------------
class PaymentForm(FlaskForm):
    kind = SelectField(
        _l("Kind"),
        choices=options((k.value, label) for k, label in PAYMENT_KIND_LABELS.items()),
        default=PaymentKind.INSTALMENT.value,
    )
    requested_on = DateField(_l("Requested on"), validators=[Optional()])
    requested = MoneyField(_l("Amount requested"))
    received_on = DateField(_l("Received on"), validators=[Optional()])
    received = MoneyField(_l("Amount received"))
    reference = StringField(
        _l("Reference"),
        validators=[Optional(), Length(max=60)],
        description=_l("Of the request or of the transfer (Chorus Pro, mandate…)."),
    )
    over_aid_confirmed = BooleanField(
        _l(
            "I confirm: record this payment even though it takes the money received above the "
            "computed aid"
        )
    )


class DocumentForm(FlaskForm):
    kind = SelectField(
        _l("Document"), choices=options((k, label) for k, label in DOCUMENT_KINDS.items())
    )
    file = FileField(_l("File (PDF, JPEG or PNG, 10 MB at most)"), validators=[FileRequired()])


# -- schemes -------------------------------------------------------------------------------
class SchemeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=60)],
        description=_l("Lower-case letters, digits, '-' or '_', e.g. snee-2021."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Shown on each dossier, e.g. what the rates are based on."),
    )
    funding_mention = StringField(
        _l("Funding mention"),
        validators=[Optional(), Length(max=200)],
        description=_l("Printed on the labels of the items it funds."),
    )
    label_emblem = BooleanField(_l("Print the EU emblem on the labels"))
    label_france_relance = BooleanField(_l("Print «France Relance» on the labels"))
    spending_from = DateField(
        _l("Eligible spending from"),
        validators=[Optional()],
        description=_l("The first invoice date the scheme pays for."),
    )
    spending_to = DateField(
        _l("Eligible spending until"),
        validators=[Optional()],
        description=_l(
            "The last invoice date the scheme pays for. An invoice dated outside these days, "
            "or without a date, counts for no aid and is not claimed."
        ),
    )
    claim_deadline = DateField(
        _l("Claim deadline"),
        validators=[Optional()],
        description=_l("The last day to send the claim for payment."),
    )
    active = BooleanField(_l("Open to new dossiers"), default=True)
    rules = TextAreaField(
        _l("Rules (JSON)"),
        validators=[DataRequired()],
        description=_l(
            "Per volet: code, label, rate tiers (rate, up_to_cents), spending_cap and aid_cap "
            "(basis class, pupil or school; amount_cents; years), min_per_school_cents. "
            "Amounts are in cents. Caps apply to each school on its own. The dates are given "
            "in their fields above."
        ),
        render_kw={"rows": 24, "spellcheck": "false"},
    )


class FilterByCollectiviteForm(FlaskForm):
    class Meta:
        csrf = False

    collectivite = SelectField(_l("Collectivité"), coerce=int, validate_choice=False)


class SchemeReferentielForm(FlaskForm):
    referentiel = SelectField(_l("Socle référentiel"), coerce=int, validate_choice=False)
