"""Sign-in, password and account administration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length

from inventory.core.forms import options
from inventory.core.policy import Role, ScopeKind

ROLE_LABELS = {
    Role.ADMIN: _l("Platform administrator"),
    Role.TECHNICIEN: _l("Municipal IT staff"),
    Role.GESTIONNAIRE: _l("Municipal finance officer"),
    Role.AUDITEUR: _l("Académie auditor"),
    Role.FORMATEUR: _l("Trainer (ERUN, CPC)"),
}
# What each kind of scope reads as (a rule's scope, a user's scope in the history).
SCOPE_KIND_LABELS = {
    ScopeKind.COLLECTIVITE: _l("Collectivité"),
    ScopeKind.ACADEMIE: _l("Académie"),
    ScopeKind.DEPARTEMENT: _l("Département"),
    ScopeKind.CIRCONSCRIPTION: _l("Circonscription"),
}


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least 12 characters, not a common password."),
    )
    confirm = PasswordField(
        _l("Confirm the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class UserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(
        _l("Role"), choices=options((r.value, label) for r, label in ROLE_LABELS.items())
    )
    collectivites = SelectMultipleField(_l("Collectivités"), coerce=int, validate_choice=True)
    academies = SelectMultipleField(_l("Académies"), coerce=int, validate_choice=True)
    departements = SelectMultipleField(_l("Départements"), coerce=int, validate_choice=True)
    circonscriptions = SelectMultipleField(_l("Circonscriptions"), coerce=int, validate_choice=True)
    active = BooleanField(_l("Account active"), default=True)


class SavedFilterForm(FlaskForm):
    """Save a list's current filters under a name (the list and its filters are hidden:
    the page the form sits on gives them; templates/_macros/lists.html draws it)."""

    list_name = HiddenField()
    query = HiddenField()
    name = StringField(_l("Name of these filters"))
