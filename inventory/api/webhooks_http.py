"""Sending a webhook to the address that was checked, and no other.

A receiver's host name is resolved once per attempt (:func:`resolve`); every address it
gives is checked against the private-range rule (api.webhooks), and the connection goes
to one of those very addresses, with the name kept for the Host header and for TLS (SNI
and the certificate's check). A second resolution, which a name under someone else's
control could answer with an inside address (DNS rebinding), never happens. Redirects are
answers, not instructions: none is followed."""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass

# The resolver (a name: the tests answer with addresses of their own).
getaddrinfo = socket.getaddrinfo


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: the URL's parts and the addresses its host resolved to."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def resolve(host: str, port: int) -> tuple[str, ...]:
    """The host's addresses, in the resolver's order, each once (OSError: unknown)."""
    infos = getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def _connect(addresses: tuple[str, ...], port: int, timeout: float | None) -> socket.socket:
    failure: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            failure = exc
    raise failure or OSError("no address to connect to")


class _Pinned(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.addresses = target.addresses

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port, self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self.addresses = target.addresses

    def connect(self) -> None:
        sock = _connect(self.addresses, self.port, self.timeout)
        # The name, not the address, for SNI and the certificate's check.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST the body to one of the target's addresses; the answer's status code."""
    kind = _PinnedTLS if target.scheme == "https" else _Pinned
    connection = kind(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return int(answer.status)
    finally:
        connection.close()
