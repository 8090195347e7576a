"""Label printing forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange


class PrintForm(FlaskForm):
    format = SelectField(_l("Label format"))
    start = IntegerField(
        _l("Start at position"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=200)],
        description=_l(
            "On a partly used sheet, the first free position (1 = top left, "
            "counting across then down)."
        ),
    )
