"""School networks through the API: a school's prefixes with their use, a prefix's
addresses, and the next free address of a prefix (given as the network tab gives it:
unique under concurrency), over the network domain's services."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from inventory.api import docs
from inventory.api.network_schemas import (
    AddressList,
    AddressQuery,
    AddressSchema,
    AllocationRequest,
    PrefixList,
)
from inventory.api.v1 import blp, problems
from inventory.core import policy
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.network import addresses, plan
from inventory.network.models import AddressStatus, IpAddress, Prefix
from inventory.orgs.models import Ecole
from inventory.web import allow


def _address(row: IpAddress) -> dict[str, Any]:
    return {
        "id": row.id,
        "prefix_id": row.prefix_id,
        "address": row.address,
        "status": row.status.value,
        "asset_id": row.asset_id,
        "holder": row.holder,
        "mac": row.mac,
        "hostname": row.hostname,
    }


@blp.route("/schools/<int:ecole_id>/prefixes", methods=["GET"])
@blp.response(200, PrefixList)
@problems()
@allow(Action.READ, on=(Ecole, "ecole_id"))
def school_prefixes(ecole_id: int) -> Any:
    """A school's prefixes, with their VLAN, gateway, DNS, ranges and use."""
    network = plan.school_network(db.session, current_user, ecole_id)
    return {
        "items": [
            {
                "id": v.prefix.id,
                "ecole_id": v.prefix.ecole_id,
                "cidr": v.prefix.cidr,
                "role": v.prefix.role.value,
                "vlan": v.prefix.vlan.vid if v.prefix.vlan else None,
                "gateway": v.prefix.gateway,
                "dns": v.prefix.dns_list,
                "usage": {"used": v.usage.used, "size": v.usage.size, "percent": v.usage.percent},
                "ranges": [
                    {"start": r.range.start, "end": r.range.end, "description": r.range.description}
                    for r in v.ranges
                ],
            }
            for v in network.prefixes
        ]
    }


@blp.route("/prefixes/<int:prefix_id>/addresses", methods=["GET"])
@blp.arguments(AddressQuery, location="query")
@blp.response(200, AddressList)
@problems(422)
@allow(Action.READ, on=(Prefix, "prefix_id"))
def prefix_addresses(args: dict[str, Any], prefix_id: int) -> Any:
    """A prefix's addresses, in address order (at most ``limit``)."""
    prefix = policy.load_or_404(current_user, Prefix, prefix_id, db.session)
    rows = addresses.prefix_addresses(db.session, current_user, prefix, limit=args["limit"])
    return {"items": [_address(r) for r in rows]}


@blp.route("/prefixes/<int:prefix_id>/next-address", methods=["POST"], endpoint="allocate_address")
@allow(Action.EDIT, on=(Prefix, "prefix_id"))
@blp.arguments(AllocationRequest)
@blp.response(201, AddressSchema)
@problems(403, 422)
def allocate_address(data: dict[str, Any], prefix_id: int) -> Any:
    """Give the prefix's next free address (never its network, broadcast or gateway
    address, nor one in a range), to an item of the school or someone named."""
    who = addresses.Holder(
        asset_id=data.get("asset_id"),
        holder=data.get("holder"),
        mac=data.get("mac"),
        hostname=data.get("hostname"),
    )
    row = addresses.allocate_next(
        db.session, current_user, prefix_id, AddressStatus(data["status"]), who
    )
    location = url_for("api.prefix_addresses", prefix_id=prefix_id)
    return _address(row), 201, {"Location": location}


docs.summaries(
    {
        "get/schools/{ecole_id}/prefixes": _l(
            "A school's prefixes, with their VLAN, gateway, DNS, ranges and use."
        ),
        "get/prefixes/{prefix_id}/addresses": _l(
            "A prefix's addresses, in address order (at most limit)."
        ),
        "post/prefixes/{prefix_id}/next-address": _l(
            "Give the prefix's next free address (never its network, broadcast or gateway "
            "address, nor one in a range), to an item of the school or someone named."
        ),
    }
)
