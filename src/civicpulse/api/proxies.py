"""The caller's address: the direct peer, or what configured reverse proxies say in X-Forwarded-For.

``ForwardedClientMiddleware`` sets the ASGI ``client`` once, so rate limits, the audit log and
everything else that reads ``request.client`` see the same address. Forwarded headers from any
other peer are ignored."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(value: str) -> Address | None:
    """An address as written in X-Forwarded-For (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``), or ``None``."""
    value = value.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The proxies whose forwarded headers are believed: addresses and networks."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks = [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries]

    def trusts(self, address: Address | None) -> bool:
        """Whether ``address`` is one of the proxies."""
        return address is not None and any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: Sequence[str]) -> str:
        """The caller behind a chain of proxies: the right-most hop not in the trusted set.

        Each proxy appends the address it saw, so only the hops written by trusted proxies count; a
        hop that is not an address ends the walk at the last trusted one."""
        current = parse_address(peer)
        if not self.trusts(current):
            return peer
        hops = [hop for header in forwarded_for for hop in header.split(",")]
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:
                break
            current = address
            if not self.trusts(address):
                break
        return str(current)


class ForwardedClientMiddleware:
    """Replaces the ASGI ``client`` (and ``scheme``) with what a trusted proxy forwarded; a request
    from any other peer passes unchanged."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if scope["type"] == "http" and peer and self.trusted.trusts(parse_address(peer[0])):
            headers = scope["headers"]
            forwarded = [value.decode("latin-1") for name, value in headers if name == b"x-forwarded-for"]
            if forwarded:
                scope["client"] = (self.trusted.client(peer[0], forwarded), 0)
            proto = _forwarded_proto(headers)
            if proto is not None:
                scope["scheme"] = proto
        await self.app(scope, receive, send)


def _forwarded_proto(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    values = [value.decode("latin-1") for name, value in headers if name == b"x-forwarded-proto"]
    if not values:
        return None
    proto = values[-1].split(",")[-1].strip().lower()
    return proto if proto in ("http", "https") else None
