from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from inventory.api.webhooks import EVENT_LABELS
from inventory.core.events import NAMES
from inventory.core.forms import options
from inventory.orgs.forms import MultiCheckboxField


class SubscriptionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    url = StringField(
        _l("Receiving address"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("http:// or https://; Socle sends a signed POST there for each event."),
    )
    events = MultiCheckboxField(
        _l("Events"), choices=options((name, EVENT_LABELS[name]) for name in NAMES)
    )
    active = BooleanField(_l("Active (events are sent)"), default=True)
