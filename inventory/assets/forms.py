"""Equipment forms: filters, one item, quick add, status, move, photos, bulk, network works,
the socle référentiels, the models' capabilities, digital services.

Choices that depend on the user's scope (categories, schools, classrooms, destinations)
are filled in by the views; the services check every value again.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
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

from inventory.assets.digital import SERVICE_KIND_LABELS
from inventory.assets.disposal import ROUTE_LABELS
from inventory.assets.lifecycle import STATUS_LABELS
from inventory.assets.models import AssetStatus, WorkStatus
from inventory.assets.referentiels import CAPABILITY_LABELS, KIND_LABELS, LEVEL_LABELS
from inventory.assets.works import WORK_KIND_LABELS, WORK_STATUS_LABELS
from inventory.core.forms import QuickSelect, options
from inventory.orgs.forms import MultiCheckboxField

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
AMOUNT_HINT = _l("In euros, e.g. 1 234,56")


def status_options(statuses: list[AssetStatus] | None = None) -> list:
    return options((s.value, STATUS_LABELS[s]) for s in (statuses or list(AssetStatus)))


def _date(label: str) -> DateField:
    return DateField(label, validators=[Optional()], format=DATE_FORMATS)


class AssetFilterForm(FlaskForm):
    """A GET search form: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Search"),
        validators=[Optional(), Length(max=100)],
        description=_l("Asset tag or serial number"),
    )
    # The equipment list's page shows a hundred places in each of these.
    collectivite = SelectField(
        _l("Collectivité"), coerce=int, validate_choice=False, widget=QuickSelect()
    )
    ecole = SelectField(_l("School"), coerce=int, validate_choice=False, widget=QuickSelect())
    classroom = SelectField(_l("Classroom"), coerce=int, validate_choice=False)
    category = SelectField(_l("Category"), coerce=int, validate_choice=False)
    status = SelectField(
        _l("Status"),
        choices=options(
            [("", _l("All statuses")), *((s.value, lb) for s, lb in STATUS_LABELS.items())]
        ),
        validate_choice=False,
    )
    warranty = IntegerField(
        _l("Warranty ending within (days)"),
        validators=[Optional(), NumberRange(min=0, max=3650)],
    )
    missing_serial = BooleanField(_l("Only items without a serial number"))
    missing_socle = BooleanField(_l("Only items in classrooms missing the socle"))


class _AssetDataForm(FlaskForm):
    """What a person types about an item (shared by creation and edition)."""

    category = SelectField(_l("Category"), coerce=int, validate_choice=False)
    manufacturer = StringField(_l("Manufacturer"), validators=[DataRequired(), Length(max=100)])
    model = StringField(_l("Model"), validators=[DataRequired(), Length(max=150)])
    tag = StringField(
        _l("Asset tag"),
        validators=[Optional(), Length(max=40)],
        description=_l("Leave empty to number it automatically."),
    )
    serial = StringField(_l("Serial number"), validators=[Optional(), Length(max=100)])
    supplier = StringField(_l("Supplier"), validators=[Optional(), Length(max=150)])
    order_number = StringField(_l("Order number"), validators=[Optional(), Length(max=60)])
    invoice_number = StringField(_l("Invoice number"), validators=[Optional(), Length(max=60)])
    purchase_date = _date(_l("Purchase date"))
    price_ht = StringField(
        _l("Price excluding VAT"), validators=[Optional(), Length(max=30)], description=AMOUNT_HINT
    )
    price_ttc = StringField(
        _l("Price including VAT"), validators=[Optional(), Length(max=30)], description=AMOUNT_HINT
    )
    warranty_end = _date(_l("End of warranty"))
    end_of_life = DateField(
        _l("Expected end of life"),
        validators=[Optional()],
        format=DATE_FORMATS,
        description=_l("Leave empty to use its model's."),
    )
    mac = StringField(
        _l("MAC address (wired)"),
        validators=[Optional(), Length(max=40)],
        description=_l("e.g. 00:1a:2b:3c:4d:5e"),
    )
    mac_wifi = StringField(_l("MAC address (Wi-Fi)"), validators=[Optional(), Length(max=40)])
    ip = StringField(_l("IP address"), validators=[Optional(), Length(max=45)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class NewAssetForm(_AssetDataForm):
    classroom = SelectField(_l("Classroom"), coerce=int, validate_choice=False)
    status = SelectField(
        _l("Status"), choices=status_options(), default=AssetStatus.DELIVERED.value
    )


class EditAssetForm(_AssetDataForm):
    version = HiddenField()


class QuickAddForm(FlaskForm):
    category = SelectField(_l("Category"), coerce=int, validate_choice=False)
    manufacturer = StringField(_l("Manufacturer"), validators=[DataRequired(), Length(max=100)])
    model = StringField(_l("Model"), validators=[DataRequired(), Length(max=150)])
    classroom = SelectField(_l("Classroom"), coerce=int, validate_choice=False)
    status = SelectField(
        _l("Status"), choices=status_options(), default=AssetStatus.DELIVERED.value
    )
    supplier = StringField(_l("Supplier"), validators=[Optional(), Length(max=150)])
    order_number = StringField(_l("Order number"), validators=[Optional(), Length(max=60)])
    invoice_number = StringField(_l("Invoice number"), validators=[Optional(), Length(max=60)])
    purchase_date = _date(_l("Purchase date"))
    price_ht = StringField(
        _l("Unit price excluding VAT"),
        validators=[Optional(), Length(max=30)],
        description=AMOUNT_HINT,
    )
    price_ttc = StringField(
        _l("Unit price including VAT"),
        validators=[Optional(), Length(max=30)],
        description=AMOUNT_HINT,
    )
    warranty_end = _date(_l("End of warranty"))
    serials = TextAreaField(
        _l("Serial numbers"),
        validators=[DataRequired()],
        description=_l("One per line: type them or scan them with a barcode reader."),
        render_kw={"rows": 10, "autocomplete": "off", "spellcheck": "false"},
    )


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validate_choice=False)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class MoveForm(FlaskForm):
    destination = SelectField(_l("Move to"), validate_choice=False)


class PhotoForm(FlaskForm):
    photo = FileField(
        _l("Photo"),
        validators=[FileRequired(_l("Choose a photo."))],
        description=_l("JPEG, PNG or WebP, at most 5 MB."),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )


class BulkForm(FlaskForm):
    """The selection comes as ``ids``; ``action`` is the button pressed."""

    new_status = SelectField(_l("New status"), choices=status_options(), validate_choice=False)
    destination = SelectField(_l("Move to"), validate_choice=False, widget=QuickSelect())


class WorkFilterForm(FlaskForm):
    class Meta:
        csrf = False

    collectivite = SelectField(_l("Collectivité"), coerce=int, validate_choice=False)
    ecole = SelectField(_l("School"), coerce=int, validate_choice=False)
    kind = SelectField(
        _l("Kind of works"),
        choices=options(
            [("", _l("All kinds")), *((k.value, lb) for k, lb in WORK_KIND_LABELS.items())]
        ),
        validate_choice=False,
    )
    status = SelectField(
        _l("Status"),
        choices=options(
            [("", _l("All statuses")), *((s.value, lb) for s, lb in WORK_STATUS_LABELS.items())]
        ),
        validate_choice=False,
    )


class PlaceFilterForm(FlaskForm):
    class Meta:
        csrf = False

    collectivite = SelectField(_l("Collectivité"), coerce=int, validate_choice=False)
    ecole = SelectField(_l("School"), coerce=int, validate_choice=False)


class WorkForm(FlaskForm):
    kind = SelectField(
        _l("Kind of works"),
        choices=options((k.value, lb) for k, lb in WORK_KIND_LABELS.items()),
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    contractor = StringField(_l("Contractor"), validators=[Optional(), Length(max=150)])
    quote = StringField(
        _l("Quote amount"), validators=[Optional(), Length(max=30)], description=AMOUNT_HINT
    )
    invoice = StringField(
        _l("Invoiced amount"), validators=[Optional(), Length(max=30)], description=AMOUNT_HINT
    )
    planned_start = _date(_l("Planned start"))
    planned_end = _date(_l("Planned end"))
    actual_start = _date(_l("Actual start"))
    actual_end = _date(_l("Actual end"))
    status = SelectField(
        _l("Status"),
        choices=options((s.value, lb) for s, lb in WORK_STATUS_LABELS.items()),
        default=WorkStatus.PLANNED.value,
    )
    accepted_on = _date(_l("Acceptance date"))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    classrooms = MultiCheckboxField(_l("Classrooms covered"), coerce=int, validate_choice=False)
    version = HiddenField()


# -- socle référentiels ---------------------------------------------------------------------
class ReferentielForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=60)],
        description=_l("Lower-case letters, digits, '-' or '_', e.g. snee-2021."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)])


class RequirementForm(FlaskForm):
    """One requirement of a référentiel. The categories are filled in by the view."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("Lower-case letters, digits, '-' or '_', e.g. poste_enseignant."),
    )
    label_fr = StringField(_l("Label in French"), validators=[DataRequired(), Length(max=200)])
    label_en = StringField(
        _l("Label in English"),
        validators=[Optional(), Length(max=200)],
        description=_l("The French label when left empty."),
    )
    level = SelectField(
        _l("Where it is asked"),
        choices=options((lv.value, label) for lv, label in LEVEL_LABELS.items()),
    )
    kind = SelectField(
        _l("What meets it"),
        choices=options((k.value, label) for k, label in KIND_LABELS.items()),
    )
    categories = MultiCheckboxField(_l("Categories of items counted"), validate_choice=False)
    minimum = IntegerField(
        _l("Minimum number of items"),
        validators=[Optional(), NumberRange(min=0, max=10_000)],
        default=1,
        description=_l("Items in service of these categories (for a ratio: the least asked)."),
    )
    ratio_items = IntegerField(
        _l("Ratio: items"),
        validators=[Optional(), NumberRange(min=1, max=1000)],
        description=_l("For a ratio: this many items…"),
    )
    ratio_classes = IntegerField(
        _l("Ratio: per target classrooms"),
        validators=[Optional(), NumberRange(min=1, max=1000)],
        description=_l("…per this many target classrooms of the school, rounded up."),
    )
    work_kinds = MultiCheckboxField(
        _l("Or finished network works of these kinds"),
        choices=options((k.value, label) for k, label in WORK_KIND_LABELS.items()),
    )
    service_kinds = MultiCheckboxField(
        _l("Or a running digital service of these kinds (school requirements)"),
        choices=options((k.value, label) for k, label in SERVICE_KIND_LABELS.items()),
    )
    capabilities = MultiCheckboxField(
        _l("Capabilities asked (brought by items in service)"),
        choices=options((c.value, label) for c, label in CAPABILITY_LABELS.items()),
    )
    position = IntegerField(
        _l("Position in the list"), validators=[Optional(), NumberRange(min=0, max=10_000)]
    )
    active = BooleanField(_l("Active (counted in the socle)"), default=True)


class ModelCapabilitiesForm(FlaskForm):
    own = BooleanField(_l("Declare this model's own capabilities (not its category's)"))
    capabilities = MultiCheckboxField(
        _l("Built into this model"),
        choices=options((c.value, label) for c, label in CAPABILITY_LABELS.items()),
    )


class ModelFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    category = SelectField(_l("Category"), coerce=int, validate_choice=False)


# -- digital services ------------------------------------------------------------------------
class DigitalServiceForm(FlaskForm):
    kind = SelectField(
        _l("Kind of service"),
        choices=options((k.value, label) for k, label in SERVICE_KIND_LABELS.items()),
    )
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("e.g. ENT « Beneylu School », cloud « Apps Éducation »"),
    )
    provider = StringField(_l("Provider"), validators=[Optional(), Length(max=150)])
    starts_on = _date(_l("Start"))
    ends_on = _date(_l("End"))
    schools = MultiCheckboxField(_l("Schools covered"), coerce=int, validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    version = HiddenField()


class ServiceFilterForm(FlaskForm):
    class Meta:
        csrf = False

    collectivite = SelectField(_l("Collectivité"), coerce=int, validate_choice=False)
    kind = SelectField(
        _l("Kind of service"),
        choices=options(
            [("", _l("All kinds")), *((k.value, lb) for k, lb in SERVICE_KIND_LABELS.items())]
        ),
        validate_choice=False,
    )
    running = BooleanField(_l("Only services running today"))


class RetireForm(FlaskForm):
    """A batch of items retired together: ``ids`` the ticked items, comma-separated."""

    ids = HiddenField()
    route = SelectField(
        _l("Disposal route"),
        choices=options([("", _l("Choose…")), *((r.value, lb) for r, lb in ROUTE_LABELS.items())]),
        validate_choice=False,
    )
    disposed_on = _date(_l("Date the items left"))
    organism = StringField(
        _l("Eco-organism or recipient"),
        validators=[Optional(), Length(max=150)],
        description=_l("Required for a DEEE collection (e.g. Ecosystem, Ecologic)."),
    )
    organism_reference = StringField(
        _l("Eco-organism's reference"),
        validators=[Optional(), Length(max=100)],
        description=_l("The collection's or the certificate's number."),
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    certificate = FileField(
        _l("Certificate"),
        description=_l("The collection or donation certificate: PDF, JPEG or PNG, at most 10 MB."),
        render_kw={"accept": "application/pdf,image/jpeg,image/png"},
    )


class EndOfLifeForm(FlaskForm):
    end_of_life = _date(_l("Expected end of life of its items"))


class RegisterFilterForm(FlaskForm):
    class Meta:
        csrf = False

    collectivite = SelectField(_l("Collectivité"), coerce=int, validate_choice=False)
    route = SelectField(
        _l("Disposal route"),
        choices=options(
            [("", _l("All routes")), *((r.value, lb) for r, lb in ROUTE_LABELS.items())]
        ),
        validate_choice=False,
    )
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=2000, max=2100)])
