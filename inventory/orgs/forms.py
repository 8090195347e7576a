"""Registry forms: list filters, classrooms, imports."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from inventory.core.forms import options
from inventory.orgs.models import LEVELS, CollectiviteKind, SchoolNature

NATURE_LABELS = {
    SchoolNature.MATERNELLE: _l("Nursery (maternelle)"),
    SchoolNature.ELEMENTAIRE: _l("Elementary (élémentaire)"),
    SchoolNature.PRIMAIRE: _l("Primary (primaire)"),
}


KIND_LABELS = {
    CollectiviteKind.COMMUNE: _l("Commune"),
    CollectiviteKind.EPCI: _l("EPCI (communauté de communes, d'agglomération, métropole…)"),
    CollectiviteKind.SYNDICAT: _l("Syndicat intercommunal (SIVU, SIVOS, SIVOM)"),
    CollectiviteKind.RPI: _l("RPI (regroupement pédagogique intercommunal)"),
}
INTERCOMMUNAL_KINDS = (CollectiviteKind.EPCI, CollectiviteKind.SYNDICAT, CollectiviteKind.RPI)


class CollectiviteForm(FlaskForm):
    """An administrator names a collectivité and sets its kind."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"))

    def offer_kinds(self, is_commune: bool) -> None:
        kinds = (CollectiviteKind.COMMUNE,) if is_commune else INTERCOMMUNAL_KINDS
        self.kind.choices = options((k.value, KIND_LABELS[k]) for k in kinds)


class LabelTextsForm(FlaskForm):
    """An administrator sets what the collectivité's labels print by default."""

    mention = StringField(
        _l("Default funding mention"),
        validators=[Optional(), Length(max=200)],
        description=_l(
            "Printed on the labels of its items that no grant has paid for yet (not "
            "invoiced); a funded item carries its funding scheme's mention."
        ),
    )
    prompt = StringField(
        _l("Scan prompt"),
        validators=[Optional(), Length(max=60)],
        description=_l("A short line on every label, e.g. «Un problème ? Scannez-moi»."),
    )


class SchoolFilterForm(FlaskForm):
    """A GET search form: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Search"),
        validators=[Optional(), Length(max=100)],
        description=_l("Name, UAI, commune or postal code"),
    )
    academie = SelectField(_l("Académie"), coerce=int, validate_choice=False)
    departement = SelectField(_l("Département"), coerce=int, validate_choice=False)
    circonscription = SelectField(_l("Circonscription"), coerce=int, validate_choice=False)
    collectivite = SelectField(_l("Collectivité"), coerce=int, validate_choice=False)
    missing_socle = BooleanField(_l("Only schools with classrooms missing the socle"))
    nature = SelectField(
        _l("Nature"),
        choices=options(
            [("", _l("All natures")), *((n.value, lb) for n, lb in NATURE_LABELS.items())]
        ),
        validate_choice=False,
    )


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ClassroomForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    levels = MultiCheckboxField(_l("Levels"), choices=options((lv, lv) for lv in LEVELS))
    pupils = IntegerField(_l("Pupils"), validators=[Optional(), NumberRange(min=0, max=60)])


class ImportForm(FlaskForm):
    kind = SelectField(
        _l("File"),
        choices=options(
            [
                ("annuaire", _l("Annuaire de l'éducation (schools)")),
                ("effectifs", _l("Pupils per school (classes)")),
            ]
        ),
    )
    file = FileField(
        _l("CSV or XLSX file"),
        validators=[
            FileRequired(),
            FileAllowed(["csv", "xlsx", "txt"], _l("Choose a CSV or XLSX file.")),
        ],
    )
    year = StringField(
        _l("School year (effectifs only)"),
        validators=[Optional(), Length(max=4)],
        description=_l("Leave empty for the latest year in the file."),
    )
