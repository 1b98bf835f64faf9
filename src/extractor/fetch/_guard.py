"""The SSRF guard: every TCP connection the fetcher opens goes through `GuardedBackend.connect_tcp`.

httpcore calls the network backend with the URL's host and port once per new connection, for the first request
and for every redirect hop alike. There we resolve the name once, refuse it when any address is not public
(unless `host:port` is on the allow list), and connect to exactly the addresses we checked. The request itself
is untouched, so the Host header and TLS SNI/certificate checks still use the URL's host name. Nothing is sent
before the check passes: a refusal raises `BlockedError` from inside the connect.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import httpcore
import httpx

from extractor._deadline import remaining
from extractor.errors import BlockedError

#: `resolve(host, port) -> [ip, ...]`; replaceable in tests (e.g. to model DNS rebinding).
Resolver = Callable[[str, int], Sequence[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def system_resolve(host: str, port: int) -> list[str]:
    """All addresses of `host` (IP literals in any spelling glibc accepts, e.g. `2130706433`, come back as
    dotted addresses, so the check below sees what the socket would connect to)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]).split("%")[0], None)
    return list(seen)


def non_public_reason(address: IPAddress) -> str | None:
    """Why an address is not a public unicast one, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            inner = non_public_reason(mapped)
            return f"IPv4-embedding address ({inner})" if inner else None
        if address.teredo is not None:
            return "Teredo address"
        if address in _NAT64:
            inner = non_public_reason(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
            return f"NAT64 address ({inner})" if inner else None
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "carrier-grade NAT"),
        (address.is_private, "private"),
        (address.is_multicast, "multicast"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not globally routable"),
    )
    for failed, reason in checks:
        if failed:
            return reason
    return None


def host_key(host: str, port: int) -> str:
    host = host.lower().rstrip(".")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Guard:
    """Decides, per connection, whether `host:port` may be reached and at which addresses."""

    def __init__(self, allow_hosts: Iterable[str] = (), resolver: Resolver | None = None) -> None:
        self.allow_hosts = frozenset(allow_hosts)
        self.resolve = resolver or system_resolve

    def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses to connect to; raises `BlockedError` when any is not public."""
        allowed = host_key(host, port) in self.allow_hosts
        found = list(self.resolve(host, port))
        if not found:
            raise httpcore.ConnectError(f"{host} has no address")
        for text in found:
            try:
                address = ipaddress.ip_address(text)
            except ValueError as exc:
                raise BlockedError(f"{host} resolved to {text!r}, not an IP address") from exc
            reason = non_public_reason(address)
            if reason and not (allowed and address.is_loopback):
                # The allow list admits loopback test servers, nothing else private.
                raise BlockedError(f"{host}:{port} resolves to {address}, a {reason} address")
        return found


def _bounded(timeout: float | None) -> float | None:
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise httpcore.ReadTimeout("deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read, write and TLS handshake ends by the thread's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to addresses the guard has checked."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in self.guard.addresses(host, port):
            try:
                stream = super().connect_tcp(address, port, _bounded(timeout), local_address, socket_options)
                return DeadlineStream(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise BlockedError("unix sockets are not fetched")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the guarded backend under its connection pool. No proxies: a proxy would make
    the connection (and the name resolution) for us, out of the guard's reach."""

    def __init__(self, guard: Guard, *, limits: httpx.Limits, ca_bundle: Path | None = None) -> None:
        super().__init__(trust_env=False, limits=limits)
        ssl_context = httpx.create_ssl_context(trust_env=False)
        if ca_bundle is not None:
            ssl_context.load_verify_locations(cafile=str(ca_bundle))
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(guard),
        )
