"""The network page's forms: a prefix, a VLAN, a range, an address (chosen or the next
free one), a Wi-Fi network, an access point's rooms, a socket; the plan's import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from inventory.core.forms import options
from inventory.network.addresses import STATUS_LABELS
from inventory.network.models import AddressStatus, PrefixRole, WifiSecurity
from inventory.network.plan import ROLE_LABELS
from inventory.network.wifi import SECURITY_LABELS


class PrefixForm(FlaskForm):
    cidr = StringField(
        _l("Prefix"),
        validators=[DataRequired(), Length(max=49)],
        description=_l("With its length, e.g. 10.35.12.0/24 or 2001:db8:35:12::/64"),
    )
    role = SelectField(_l("Role"), choices=options((r.value, ROLE_LABELS[r]) for r in PrefixRole))
    vlan_id = SelectField(_l("VLAN"), coerce=int, choices=[], validate_choice=False)
    gateway = StringField(_l("Gateway"), validators=[Optional(), Length(max=45)])
    dns = StringField(
        _l("DNS servers"),
        validators=[Optional(), Length(max=200)],
        description=_l("Addresses separated by commas"),
    )
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])


class VlanForm(FlaskForm):
    vid = IntegerField(_l("VLAN id"), validators=[DataRequired(), NumberRange(1, 4094)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    group = StringField(_l("Group"), validators=[Optional(), Length(max=80)])


class RangeForm(FlaskForm):
    start = StringField(_l("First address"), validators=[DataRequired(), Length(max=45)])
    end = StringField(_l("Last address"), validators=[DataRequired(), Length(max=45)])
    description = StringField(
        _l("Description"),
        validators=[Optional(), Length(max=200)],
        description=_l("e.g. DHCP, or the classe mobile"),
    )


def _status_choices() -> list:
    return options((s.value, STATUS_LABELS[s]) for s in AddressStatus)


class AddressForm(FlaskForm):
    """An address: ``address`` empty gives the next free one."""

    address = StringField(
        _l("Address"),
        validators=[Optional(), Length(max=45)],
        description=_l("Leave empty for the next free address"),
    )
    status = SelectField(_l("Status"), choices=_status_choices())
    asset_id = SelectField(_l("Item"), coerce=int, choices=[], validate_choice=False)
    holder = StringField(
        _l("Holder"),
        validators=[Optional(), Length(max=150)],
        description=_l("When no item holds it: who or what does"),
    )
    mac = StringField(_l("MAC address"), validators=[Optional(), Length(max=40)])
    hostname = StringField(_l("Host name"), validators=[Optional(), Length(max=63)])


class WifiForm(FlaskForm):
    ssid = StringField(_l("SSID"), validators=[DataRequired(), Length(max=32)])
    security = SelectField(
        _l("Security"), choices=options((s.value, SECURITY_LABELS[s]) for s in WifiSecurity)
    )
    wifi_vlan = SelectField(_l("VLAN"), coerce=int, choices=[], validate_choice=False)


class CoverageForm(FlaskForm):
    asset_id = SelectField(_l("Access point"), coerce=int, choices=[], validate_choice=False)
    covered_room = SelectField(_l("Classroom"), coerce=int, choices=[], validate_choice=False)


class SocketForm(FlaskForm):
    socket_room = SelectField(_l("Classroom"), coerce=int, choices=[], validate_choice=False)
    label = StringField(_l("Socket"), validators=[DataRequired(), Length(max=40)])
    work_id = SelectField(_l("Cabling works"), coerce=int, choices=[], validate_choice=False)


class PlanImportForm(FlaskForm):
    file = FileField(_l("Spreadsheet (CSV or XLSX)"), validators=[FileRequired()])


class AddressPlanForm(FlaskForm):
    aggregates = TextAreaField(
        _l("Aggregates"),
        validators=[Optional(), Length(max=2000)],
        description=_l("One prefix per line, e.g. 10.94.0.0/16"),
    )
    school_template = StringField(
        _l("School prefix template"),
        validators=[Optional(), Length(max=60)],
        description=_l("e.g. 10.{dept}.{school}.0/24: the département's number, the school's"),
    )
