"""Which callback URLs the service may call: http(s) to public addresses only, unless allowed.

A callback URL is chosen by the client, and the server calls it: without a guard, a client could
make the server reach its own loopback services, the private network behind it, or a cloud
metadata endpoint (server-side request forgery). Every address a host name resolves to is
checked, when the job is submitted and again before each delivery attempt (a name may resolve
differently later: DNS rebinding), and the delivery connects to an address that was checked.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from scribe.domain.errors import InvalidRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses the name resolves to, as strings; raises OSError when it cannot.
Resolver = Callable[[str, int], Sequence[str]]

ALLOW_SETTING = "SCRIBE_CALLBACK_ALLOW_PRIVATE"
MAX_URL_LENGTH = 2048
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


@dataclass(frozen=True)
class CheckedUrl:
    """A callback URL that passed the guard, with the addresses its host resolved to."""

    url: httpx.URL
    addresses: tuple[IPAddress, ...]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_url(url: str) -> httpx.URL:
    """The URL, if it is an absolute http(s) URL with a host; else ``InvalidRequest``."""
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"callback_url is longer than {MAX_URL_LENGTH} characters.")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise _invalid(f"callback_url is not a valid URL: {exc}.") from None
    if parsed.scheme not in ("http", "https"):
        shown = parsed.scheme or "none"
        raise _invalid(f"callback_url must be an http or https URL (scheme: {shown}).")
    if not parsed.host:
        raise _invalid("callback_url has no host.")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise _invalid(f"callback_url has an invalid port ({parsed.port}).")
    return parsed


def addresses_of(url: httpx.URL, resolver: Resolver) -> tuple[IPAddress, ...]:
    """The URL's host as addresses: itself when it is an IP literal, else what it resolves to."""
    host = url.raw_host.decode("ascii")  # IDNA-encoded, as it goes to the resolver
    literal = _ip_literal(host)
    if literal is not None:
        return (literal,)
    try:
        resolved = resolver(host, default_port(url))
    except (OSError, UnicodeError) as exc:
        raise _invalid(f"callback_url host {url.host} could not be resolved ({exc}).") from None
    addresses = tuple(ipaddress.ip_address(a.split("%", 1)[0]) for a in resolved)
    if not addresses:
        raise _invalid(f"callback_url host {url.host} resolves to no address.")
    return addresses


def default_port(url: httpx.URL) -> int:
    """The URL's port, or its scheme's default."""
    return url.port or (443 if url.scheme == "https" else 80)


def check_addresses(addresses: Sequence[IPAddress], allow_private: bool) -> None:
    """Raise ``InvalidRequest`` if any address is not public (unless ``allow_private``)."""
    if allow_private:
        return
    for address in addresses:
        kind = refused_kind(address)
        if kind is not None:
            raise _invalid(
                f"callback_url resolves to {kind} address ({address}); set "
                f"{ALLOW_SETTING}=true to allow it."
            )


def check_url(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> CheckedUrl:
    """Parse, resolve and check a callback URL; ``InvalidRequest`` says what is wrong with it."""
    parsed = parse_url(url)
    addresses = addresses_of(parsed, resolver)
    check_addresses(addresses, allow_private)
    return CheckedUrl(parsed, addresses)


def refused_kind(address: IPAddress) -> str | None:
    """Why this address may not be called ("a loopback", "a private", ...), or None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 form of an IPv4 address reaches that IPv4 address: judge it as one. (NAT64
        # addresses are what DNS64 gives for IPv4-only hosts on IPv6-only networks.)
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return refused_kind(embedded)
    if address in _METADATA:
        return "a cloud metadata (link-local)"
    if address.is_unspecified:
        return "an unspecified"
    if address.is_loopback:
        return "a loopback"
    if address.is_link_local:
        return "a link-local"
    if address.is_multicast:
        return "a multicast"
    if address.is_reserved:  # before is_private, which counts 240.0.0.0/4 as private
        return "a reserved"
    if address.is_private:
        return "a private"
    if not address.is_global:  # shared (100.64.0.0/10), documentation and other special ranges
        return "a non-public"
    return None


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _invalid(message: str) -> InvalidRequest:
    return InvalidRequest(message, param="callback_url", code="invalid_value")
