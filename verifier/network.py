"""Where the verifier may connect: public addresses only, checked after name resolution, on the address used.

A trusted issuer's name could resolve (or be made to resolve) to an address inside the verifier's own network
(loopback, private ranges, link-local cloud metadata services). Every connection therefore resolves the name
itself, refuses if any address it gets is not public, and connects to the very address it checked, so a
second, different answer from DNS cannot slip in between. Addresses the operator configured explicitly, as IP
literals in ``VERIFIER_TRUSTED_ISSUERS`` or ``VERIFIER_REGISTRY_URL`` (the local demo) or as
``VERIFIER_ALLOWED_ADDRESSES``, are allowed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AddressPolicy:
    allowed: tuple[IPNetwork, ...] = ()
    """Non-public networks the operator allowed explicitly."""

    @classmethod
    def from_config(cls, urls: Iterable[str], networks: Iterable[str] = ()) -> AddressPolicy:
        """Allow the IP literals of ``urls`` (issuer ids, the registry URL) and the ``networks`` (CIDR or IP)."""
        allowed: list[IPNetwork] = [ipaddress.ip_network(network.strip(), strict=False) for network in networks]
        for url in urls:
            try:
                host = urlsplit(url).hostname
                allowed.append(ipaddress.ip_network(host or "", strict=False))
            except ValueError:
                continue  # a name, not an address: it gets no exception
        return cls(tuple(allowed))

    def permits(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed):
            return True
        return address.is_global and not address.is_multicast


class RefusedAddress(httpcore.ConnectError):
    """The host resolves to an address the verifier may not connect to."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the policy permits."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} cannot be resolved") from exc
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        refused = [address for address in addresses if not self._policy.permits(address)]
        if refused or not addresses:
            raise RefusedAddress(f"{host} resolves to an address that is not public; not contacted")
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedAddress("the verifier does not use local sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(policy: AddressPolicy) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections go through :class:`GuardedBackend` (TLS still verifies the name)."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # httpx does not take a network backend; its pool is rebuilt with one (tests/test_fetch_limits.py checks the
    # guard is in force, so an httpx upgrade that changes this cannot go unnoticed).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        network_backend=GuardedBackend(policy),
    )
    return transport
