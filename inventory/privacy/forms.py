"""Privacy forms: a person's address, searched, exported or erased."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class PersonForm(FlaskForm):
    """A GET search: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    email = StringField(
        _l("Email address"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"type": "email"},
    )


class EraseForm(FlaskForm):
    email = StringField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    confirm = BooleanField(
        _l("I confirm: delete this person's contact data from the tickets, and the mail sent."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
