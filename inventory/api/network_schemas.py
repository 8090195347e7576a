"""What the network endpoints read and write (api/network.py)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from inventory.api.schemas import N_, Int, Text
from inventory.network.models import AddressStatus, PrefixRole


class UsageSchema(Schema):
    used = fields.Integer(metadata={"description": N_("Addresses in use (ranges whole)")})
    size = fields.Integer(metadata={"description": N_("Usable addresses")})
    percent = fields.Integer()


class RangeSchema(Schema):
    start = fields.String()
    end = fields.String()
    description = fields.String(allow_none=True)


class PrefixSchema(Schema):
    id = fields.Integer()
    ecole_id = fields.Integer()
    cidr = fields.String(metadata={"description": N_("The prefix, e.g. 10.35.12.0/24")})
    role = fields.String(validate=validate.OneOf([r.value for r in PrefixRole]))
    vlan = fields.Integer(allow_none=True, metadata={"description": N_("The VLAN's 802.1Q id")})
    gateway = fields.String(allow_none=True)
    dns = fields.List(fields.String())
    usage = fields.Nested(UsageSchema)
    ranges = fields.List(fields.Nested(RangeSchema))


class PrefixList(Schema):
    items = fields.List(fields.Nested(PrefixSchema))


class AddressSchema(Schema):
    id = fields.Integer()
    prefix_id = fields.Integer()
    address = fields.String()
    status = fields.String(validate=validate.OneOf([s.value for s in AddressStatus]))
    asset_id = fields.Integer(allow_none=True)
    holder = fields.String(allow_none=True)
    mac = fields.String(allow_none=True)
    hostname = fields.String(allow_none=True)


class AddressList(Schema):
    items = fields.List(fields.Nested(AddressSchema))


class AddressQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = Int(load_default=500, validate=validate.Range(min=1, max=2000))


class AllocationRequest(Schema):
    """The next free address of a prefix, for an item or someone named."""

    class Meta:
        unknown = EXCLUDE

    status = Text(
        load_default=AddressStatus.ACTIVE.value,
        validate=validate.OneOf([s.value for s in AddressStatus]),
    )
    asset_id = Int(allow_none=True, metadata={"description": N_("The item that holds it")})
    holder = Text(allow_none=True, validate=validate.Length(max=150))
    mac = Text(allow_none=True, validate=validate.Length(max=40))
    hostname = Text(allow_none=True, validate=validate.Length(max=63))
