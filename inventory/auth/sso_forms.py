"""The administrator's forms of identity providers, their rules and SSO-only domains."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from inventory.auth.forms import ROLE_LABELS
from inventory.auth.sso_models import ProviderKind
from inventory.core.forms import options
from inventory.core.policy import Role

KIND_LABELS = {ProviderKind.OIDC: _l("OpenID Connect"), ProviderKind.CAS: _l("CAS")}


class ProviderForm(FlaskForm):
    version = HiddenField()
    label = StringField(
        _l("Button label"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("Shown on the sign-in page, e.g. ProConnect or Académie de Créteil."),
    )
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("In the redirect address given to the provider: /sso/<code>/callback."),
    )
    kind = SelectField(
        _l("Protocol"), choices=options((k.value, v) for k, v in KIND_LABELS.items())
    )
    server_url = StringField(
        _l("Provider address"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("OpenID Connect: the issuer. CAS: the server's base address (…/cas)."),
    )
    client_id = StringField(_l("Client id (OpenID Connect)"), validators=[Length(max=200)])
    scopes = StringField(_l("Scopes (OpenID Connect)"), validators=[Length(max=300)])
    acr_values = StringField(
        _l("Required authentication levels (acr)"),
        validators=[Length(max=300)],
        description=_l("Asked for, and checked in the ID token; empty: none asked."),
    )
    extra_params = StringField(
        _l("Extra authorization parameters"),
        validators=[Length(max=500)],
        description=_l("name=value pairs separated by spaces, e.g. ProConnect's idp_id=…"),
    )
    claim_email = StringField(_l("Claim holding the email"), validators=[Length(max=100)])
    claim_name = StringField(_l("Claim holding the name"), validators=[Length(max=100)])
    cas_version = SelectField(_l("CAS version"), choices=options([("3", "CAS 3"), ("2", "CAS 2")]))
    emails_verified = BooleanField(_l("The provider verifies every email it gives"))
    allow_jit = BooleanField(_l("Open an account for unknown people who meet a rule below"))
    enabled = BooleanField(_l("Shown on the sign-in page"), default=True)


class RuleForm(FlaskForm):
    claim = StringField(
        _l("Claim"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("A claim (or CAS attribute) name such as siret, or email_domain."),
    )
    value = StringField(_l("Value"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(
        _l("Role given"),
        choices=options((r.value, v) for r, v in ROLE_LABELS.items() if r is not Role.ADMIN),
    )
    scope = SelectField(_l("Scope given"), validate_choice=True)


class DomainForm(FlaskForm):
    domain = StringField(
        _l("Email domain"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("Its people sign in through a provider only, e.g. ac-creteil.fr."),
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
