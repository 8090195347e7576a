"""A school's network plan from a spreadsheet (CSV or XLSX), through the one import
framework: one row per VLAN, prefix, range or reservation (the ``type`` column), in that
order in the file. Each kind upserts on its natural key (a VLAN's id in the school, a
prefix in the collectivité's space, a range's first address, a reservation's address in
its prefix), so importing the same file again changes nothing; every rule of the pages
applies (no overlap, inside the prefix, never the network address or the gateway…)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from netaddr import IPNetwork
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.core.errors import DomainError
from inventory.core.importing import (
    Column,
    Importer,
    ImportReport,
    Outcome,
    Row,
    RowRejected,
    run_import,
)
from inventory.core.policy import Subject
from inventory.network import addresses, plan
from inventory.network.allocation import key, offset_of, parse_address, parse_prefix
from inventory.network.models import AddressStatus, DhcpRange, IpAddress, Prefix, PrefixRole, Vlan
from inventory.orgs.models import Ecole

KINDS = {
    "vlan": "vlan",
    "prefix": "prefix",
    "prefixe": "prefix",
    "range": "range",
    "plage": "range",
    "reservation": "reservation",
    "address": "reservation",
    "adresse": "reservation",
}
ROLES = {r.value: r for r in PrefixRole} | {
    "pedagogy": PrefixRole.PEDAGOGIQUE,
    "admin": PrefixRole.ADMINISTRATION,
    "guests": PrefixRole.INVITES,
    "devices": PrefixRole.EQUIPEMENTS,
}
STATUSES = {s.value: s for s in AddressStatus} | {
    "actif": AddressStatus.ACTIVE,
    "reserve": AddressStatus.RESERVED,
}


class PlanImporter(Importer):
    columns = (
        Column("type", ("kind", "nature"), required=True),
        Column("prefix", ("cidr", "prefixe", "reseau")),
        Column("vlan", ("vlan_id", "vid")),
        Column("name", ("nom", "vlan_name")),
        Column("group", ("groupe",)),
        Column("role", ("usage",)),
        Column("gateway", ("passerelle",)),
        Column("dns", ()),
        Column("address", ("adresse", "ip")),
        Column("start", ("debut", "first")),
        Column("end", ("fin", "last")),
        Column("mac", ("adresse_mac",)),
        Column("hostname", ("nom_hote", "host")),
        Column("holder", ("detenteur",)),
        Column("status", ("statut",)),
        Column("description", ()),
    )
    batch_size = 500

    def __init__(self, session: Session, user: Subject, ecole: Ecole) -> None:
        self.session, self.user, self.ecole = session, user, ecole

    def key_of(self, row: Row) -> str:
        return row.get("prefix") or row.get("address") or row.get("start") or row.get("vlan") or ""

    def import_row(self, row: Row) -> Outcome:
        kind = KINDS.get((row.get("type") or "").strip().lower())
        if kind is None:
            raise RowRejected(_l("The type is vlan, prefix, range or reservation."), "type")
        try:
            return getattr(self, f"_{kind}")(row)
        except DomainError as exc:
            raise RowRejected(exc.message, exc.field) from None

    def _vlan_id(self, row: Row) -> int | None:
        text = (row.get("vlan") or "").strip()
        if not text:
            return None
        if not text.isdigit():
            raise RowRejected(_l("A VLAN id is between 1 and 4094."), "vlan")
        return int(text)

    def _vlan(self, row: Row) -> Outcome:
        vid = self._vlan_id(row)
        if vid is None:
            raise RowRejected(_l("Give the VLAN's id."), "vlan")
        name, group = (row.get("name") or "").strip(), (row.get("group") or "").strip()
        found = self.session.scalar(select(Vlan).filter_by(ecole_id=self.ecole.id, vid=vid))
        if found is None:
            plan.add_vlan(self.session, self.user, self.ecole, vid, name, group)
            return Outcome.CREATED
        if (found.name, found.group_name) == (name or found.name, group):
            return Outcome.UNCHANGED
        found.name, found.group_name = name or found.name, group
        return Outcome.UPDATED

    def _prefix_of(self, row: Row) -> Prefix:
        net = parse_prefix(row.get("prefix"), field="prefix")
        found = self.session.scalar(
            select(Prefix).filter_by(collectivite_id=self.ecole.collectivite_id, cidr=str(net))
        )
        if found is None or found.ecole_id != self.ecole.id:
            raise RowRejected(
                _l("%(cidr)s is not a prefix of the school (give it above).", cidr=net), "prefix"
            )
        return found

    def _prefix(self, row: Row) -> Outcome:
        role = ROLES.get((row.get("role") or "").strip().lower())
        if role is None:
            raise RowRejected(
                _l("The role is pedagogique, administration, invites or equipements."), "role"
            )
        vid = self._vlan_id(row)
        vlan_id = None
        if vid is not None:
            vlan_id = self.session.scalar(
                select(Vlan.id).filter_by(ecole_id=self.ecole.id, vid=vid)
            )
            if vlan_id is None:
                raise RowRejected(
                    _l("The school has no VLAN %(vid)s (give it above).", vid=vid), "vlan"
                )
        net = parse_prefix(row.get("prefix"), field="prefix")
        dns = [d.strip() for d in (row.get("dns") or "").replace(";", ",").split(",") if d.strip()]
        found = self.session.scalar(
            select(Prefix).filter_by(collectivite_id=self.ecole.collectivite_id, cidr=str(net))
        )
        if found is None:
            fields = plan.PrefixFields(
                str(net), role, vlan_id, row.get("gateway"), dns, row.get("description")
            )
            plan.add_prefix(self.session, self.user, self.ecole, fields)
            return Outcome.CREATED
        if found.ecole_id != self.ecole.id:
            raise RowRejected(_l("%(cidr)s is another school's.", cidr=net), "prefix")
        gateway = (
            str(parse_address(row["gateway"], field="gateway"))
            if (row.get("gateway") or "").strip()
            else None
        )
        dns_text = ",".join(str(parse_address(d, field="dns")) for d in dns)
        wanted = (role, vlan_id, gateway, dns_text)
        if (found.role, found.vlan_id, found.gateway, found.dns) == wanted:
            return Outcome.UNCHANGED
        if gateway:
            offset_of(net, parse_address(gateway, field="gateway"), field="gateway")
        found.role, found.vlan_id, found.gateway, found.dns = wanted
        return Outcome.UPDATED

    def _range(self, row: Row) -> Outcome:
        prefix = self._prefix_of(row)
        net = IPNetwork(prefix.cidr)
        first = offset_of(net, parse_address(row.get("start"), field="start"), field="start")
        if self.session.scalar(
            select(DhcpRange.id).filter_by(prefix_id=prefix.id, first_host=key(first))
        ):
            return Outcome.UNCHANGED
        plan.add_range(
            self.session,
            self.user,
            prefix,
            row.get("start") or "",
            row.get("end") or "",
            row.get("description"),
        )
        return Outcome.CREATED

    def _reservation(self, row: Row) -> Outcome:
        prefix = self._prefix_of(row)
        net = IPNetwork(prefix.cidr)
        offset = offset_of(net, parse_address(row.get("address")))
        status = STATUSES.get((row.get("status") or "dhcp").strip().lower())
        if status is None:
            raise RowRejected(_l("The status is active, reserved or dhcp."), "status")
        who = addresses.Holder(
            holder=row.get("holder"), mac=row.get("mac"), hostname=row.get("hostname")
        )
        found = self.session.scalar(
            select(IpAddress).filter_by(prefix_id=prefix.id, host=key(offset))
        )
        if found is None:
            addresses.record_address(
                self.session, self.user, prefix, row.get("address") or "", status, who
            )
            return Outcome.CREATED
        _asset, mac = addresses.clean_holder(self.session, self.user, prefix, status, who)
        wanted = (
            status,
            (who.holder or "").strip() or None,
            mac,
            (who.hostname or "").strip() or None,
        )
        if (found.status, found.holder, found.mac, found.hostname) == wanted:
            return Outcome.UNCHANGED
        found.status, found.holder, found.mac, found.hostname = wanted
        return Outcome.UPDATED


def import_plan(
    session: Session, user: Subject, ecole: Ecole, data: bytes, filename: str = ""
) -> ImportReport:
    """Import a school's plan; the report tells row by row."""
    return run_import(PlanImporter(session, user, ecole), data, session=session, filename=filename)
