"""MAC and IP addresses: validated and normalised with netaddr."""

from __future__ import annotations

from netaddr import EUI, AddrFormatError, IPAddress, NotRegisteredError, mac_unix_expanded


class AddressError(ValueError):
    pass


def normalize_mac(value: str | None) -> str | None:
    """'00-1A-2b-3c-4d-5e', '001a.2b3c.4d5e' … → '00:1a:2b:3c:4d:5e'; '' → None."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        eui = EUI(value, dialect=mac_unix_expanded)
    except (AddrFormatError, TypeError, ValueError):
        raise AddressError(value) from None
    if eui.version != 48 or int(eui) == 0 or int(eui) == 0xFFFFFFFFFFFF:
        raise AddressError(value)
    return str(eui)


def normalize_ip(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        address = IPAddress(value, flags=0)
    except (AddrFormatError, TypeError, ValueError):
        raise AddressError(value) from None
    if address.is_loopback() or address.is_multicast() or str(address) in {"0.0.0.0", "::"}:
        raise AddressError(value)
    return str(address)


def mac_vendor(mac: str | None) -> str | None:
    """The manufacturer registered for the MAC's OUI, when the IEEE registry knows it."""
    if not mac:
        return None
    try:
        return str(EUI(mac).oui.registration().org)
    except (NotRegisteredError, AddrFormatError, IndexError):
        return None
