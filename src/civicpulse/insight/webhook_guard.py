"""Where an alert webhook may point: never into the office's own network unless allowed.

A webhook URL is ``http`` or ``https`` (``https`` only in production). Its host name is resolved
when the rule is saved and again before each delivery; every address it resolves to must be
public: loopback, private, shared (carrier-grade NAT), link-local, multicast, reserved and
unspecified addresses are refused, IPv4 inside IPv6 (mapped, 6to4, NAT64) judged by the IPv4
address it carries, unless ``alert_webhook_allow_private``. A delivery connects to the address
that was checked (``pinned``), so that a second, different DNS answer cannot redirect it.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import httpx

from civicpulse.errors import Unprocessable
from civicpulse.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
FIELD = "body.webhook_url"
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
NOT_PUBLIC = tuple(
    ipaddress.ip_network(net)
    for net in ("0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4")
)


class WebhookRefused(Unprocessable):
    """A webhook URL that is not allowed (scheme, or an address inside the office's network)."""

    code = "webhook_refused"

    def __init__(self, message: str) -> None:
        super().__init__(message, details={"fields": [{"field": FIELD, "message": message}]})


@dataclass(frozen=True)
class PinnedRequest:
    """A checked webhook call: the URL with the checked address as its host, the ``Host`` header
    and TLS server name of the URL's own host name."""

    url: httpx.URL
    host_header: str
    server_name: str | None
    address: IPAddress


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_not_public(address: IPAddress) -> str | None:
    """Why a webhook may not call ``address`` (``None``: it is public)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.teredo is not None:
            return "a Teredo tunnel address"
        inner = _embedded_ipv4(address)
        if inner is not None:
            return why_not_public(inner)
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (any(address in net for net in NOT_PUBLIC if net.version == address.version), "not a public address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to now (an IP literal: itself)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _parse(url: str, settings: Settings) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise WebhookRefused(f"the webhook URL is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise WebhookRefused("a webhook is an http:// or https:// URL with a host")
    if parsed.userinfo:
        raise WebhookRefused("a webhook URL carries no user name or password")
    if settings.env == "production" and parsed.scheme != "https":
        raise WebhookRefused("in production a webhook URL must use https://")
    return parsed


def checked_addresses(url: str, settings: Settings) -> list[IPAddress]:
    """The addresses ``url``'s host resolves to, every one allowed; ``WebhookRefused`` otherwise."""
    parsed = _parse(url, settings)
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError) as exc:
        raise WebhookRefused(f"the webhook host {parsed.host} does not resolve: {exc}") from None
    if not addresses:
        raise WebhookRefused(f"the webhook host {parsed.host} does not resolve")
    if not settings.alert_webhook_allow_private:
        for address in addresses:
            reason = why_not_public(address)
            if reason is not None:
                raise WebhookRefused(
                    f"the webhook host {parsed.host} resolves to {address}, {reason}: webhooks may "
                    "not call the office's own network (alert_webhook_allow_private)"
                )
    return addresses


def check_webhook_url(url: str, settings: Settings) -> None:
    """Refuse (422, field ``body.webhook_url``) a URL a webhook may not call."""
    checked_addresses(url, settings)


def pinned_request(url: str, settings: Settings) -> PinnedRequest:
    """The call to make for ``url``: checked now, connected to the first checked address."""
    parsed = _parse(url, settings)
    address = checked_addresses(url, settings)[0]
    host = parsed.raw_host.decode("ascii")
    literal = host.strip("[]")
    try:
        ipaddress.ip_address(literal)
        server_name = None
    except ValueError:
        server_name = host
    netloc = parsed.netloc.decode("ascii")
    return PinnedRequest(
        url=parsed.copy_with(host=str(address)),
        host_header=netloc,
        server_name=server_name,
        address=address,
    )
