from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from inventory.api.models import TokenScope
from inventory.core.forms import options


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    scope = SelectField(
        _l("Access"),
        choices=options(
            [
                (TokenScope.READ.value, _l("Read only")),
                (TokenScope.WRITE.value, _l("Read and write")),
            ]
        ),
        default=TokenScope.READ.value,
    )
    expires_on = DateField(_l("Expires on"), validators=[Optional()])
    networks = TextAreaField(
        _l("Allowed networks"),
        validators=[Optional(), Length(max=2000)],
        description=_l("One address or network per line (10.0.0.0/8); empty: from anywhere."),
    )
