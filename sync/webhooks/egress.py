"""Where webhook deliveries may go: public addresses, and what the operator allows.

A partner chooses the URL, so without checks it chooses what the hub connects to: the
hub's own API, the database port, a cloud's metadata service. ``check_url`` refuses such
URLs when they are registered; ``EgressBackend`` checks again when a delivery connects,
on the addresses the name resolves to then, and connects to the address it checked (a
name cannot answer a public address to the check and a private one to the connection).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Names that mean this machine whatever DNS says.
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class RefusedDestination(Exception):
    """A webhook URL or the address it resolves to is one the hub may not reach."""


@dataclass(frozen=True)
class EgressPolicy:
    """The operator's exceptions (``MEMBERHUB_WEBHOOK_ALLOWED_HOSTS``): host names, and
    addresses or CIDR ranges, that webhooks may reach although they are not public. A
    host allowed here may also be reached over plain http."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> EgressPolicy:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            entry = entry.strip()
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(_normal_name(entry))
        return cls(hosts=frozenset(hosts), networks=tuple(networks))

    def allows_host(self, host: str) -> bool:
        """The URL's host is named by the allow-list (as a name, or an address in a range)."""
        address = _literal_address(host)
        if address is not None:
            return self.allows_address(address)
        return _normal_name(host) in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(
            address in network for network in self.networks if network.version == address.version
        )


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: not loopback, private, shared (carrier NAT, where some
    clouds keep their metadata service), link-local (169.254.169.254), multicast,
    reserved or unspecified. An IPv4 address written as IPv6 is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_public(mapped)
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _normal_name(host: str) -> str:
    return host.strip().rstrip(".").lower()


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _numeric_ipv4(host: str) -> bool:
    """Spellings that resolvers read as IPv4 although they are not dotted quads:
    ``2130706433``, ``0x7f000001``, ``127.1``, ``0177.0.0.1``."""
    parts = host.rstrip(".").lower().split(".")
    if not 1 <= len(parts) <= 4:
        return False
    for part in parts:
        if part.startswith("0x"):
            if not part[2:] or any(c not in "0123456789abcdef" for c in part[2:]):
                return False
        elif not part.isdigit():
            return False
    return True


def check_url(url: str, policy: EgressPolicy) -> None:
    """Refuse (RefusedDestination, with a message for the partner) a URL with
    credentials, a non-https URL to a host the allow-list does not name, and a URL whose
    host is a local name or a non-public address in any spelling. Names are resolved
    when a delivery connects, not here."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.username is not None or parts.password is not None:
        raise RefusedDestination("the URL must not contain a user name or password")
    allowed = policy.allows_host(host)
    if parts.scheme.lower() != "https" and not allowed:
        raise RefusedDestination("the URL must use https")
    if allowed:
        return
    address = _literal_address(host)
    if address is None and _numeric_ipv4(host):
        raise RefusedDestination("write an IP address in the URL as four decimal numbers")
    if address is not None and not is_public(address):
        raise RefusedDestination(f"the URL's address {address} is not a public address")
    name = _normal_name(host)
    if address is None and (name in _LOCAL_NAMES or name.endswith(".localhost")):
        raise RefusedDestination(f"the URL's host {host} is this machine")


#: Answers getaddrinfo-style entries for (host, port); tests may substitute a local answer.
Resolver = Callable[[str, int], Awaitable[list[Any]]]


async def resolve(host: str, port: int) -> list[Any]:
    loop = asyncio.get_running_loop()
    return await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)


async def vetted_addresses(
    host: str, port: int, policy: EgressPolicy, *, resolver: Resolver = resolve
) -> list[IPAddress]:
    """Every address ``host`` resolves to now, or RefusedDestination if any of them may
    not be reached (a name with one private answer among public ones is refused whole:
    which answer a client uses is not ours to predict)."""
    name_allowed = policy.allows_host(host)
    literal = _literal_address(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            answers = await resolver(host, port)
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        # An IPv6 answer may carry a zone (fe80::1%eth0); the address is what is judged.
        found = (ipaddress.ip_address(answer[4][0].split("%")[0]) for answer in answers)
        addresses = list(dict.fromkeys(found))
    if not addresses:
        raise httpcore.ConnectError(f"{host} has no address")
    for address in addresses:
        if not (name_allowed or is_public(address) or policy.allows_address(address)):
            raise RefusedDestination(
                f"{host} resolves to {address}, which webhooks are not allowed to reach"
            )
    return addresses


class EgressBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses ``vetted_addresses``
    passed. TLS still verifies the certificate for the URL's host name, which httpcore
    passes to ``start_tls`` separately from the address connected to."""

    def __init__(self, policy: EgressPolicy, *, resolver: Resolver = resolve) -> None:
        self.policy = policy
        self.resolver = resolver
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await vetted_addresses(host, port, self.policy, resolver=self.resolver)
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._backend.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as failed:
                error = failed
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedDestination("webhooks are not delivered to Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class EgressTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on an ``EgressBackend``, with no proxy from the environment (a
    proxy would resolve the host itself, past the check)."""

    def __init__(self, policy: EgressPolicy, *, resolver: Resolver = resolve) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=EgressBackend(policy, resolver=resolver),
        )


def egress_client(policy: EgressPolicy, *, resolver: Resolver = resolve) -> httpx.AsyncClient:
    """The HTTP client of webhook deliveries. Redirects are never followed: a receiver
    that moved registers its new URL (and a redirect could lead anywhere)."""
    return httpx.AsyncClient(
        transport=EgressTransport(policy, resolver=resolver),
        trust_env=False,
        follow_redirects=False,
    )
