"""The webhook channel's HTTP transport: one POST per call with stdlib ``http.client``,
redirects never followed, a deadline on the whole exchange, and an SSRF guard that resolves
the host, refuses non-public addresses (unless configured for development) and connects to
exactly the address it checked, so DNS cannot change in between.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable
from collections.abc import Mapping

from consent_service.infra.addresses import is_public_address
from consent_service.messaging.webhooks import HttpAnswer
from consent_service.messaging.webhooks import TransportError

DELIVERY_TIMEOUT = 15.0
_RESPONSE_BYTES = 4096  # read (and ignore) at most this much of a receiver's answer


class HttpTransport:
    """One POST per call: no redirects, a timeout, and the SSRF guard."""

    def __init__(
        self,
        *,
        allow_private_networks: bool,
        timeout: float = DELIVERY_TIMEOUT,
        resolve: Callable[[str, int], list[str]] | None = None,
    ) -> None:
        self._allow_private = allow_private_networks
        self._timeout = timeout
        self._resolve = resolve or _resolve
        self._tls = ssl.create_default_context()

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpAnswer:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise TransportError("not an http(s) URL")
        if parts.scheme == "http" and not self._allow_private:
            raise TransportError("plain http is refused; use https")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = self.vetted_address(parts.hostname, port)
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = _PinnedHTTPSConnection(
                parts.hostname, port, address, self._timeout, self._tls
            )
        else:
            connection = _PinnedHTTPConnection(parts.hostname, port, address, self._timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # The socket timeout bounds each read; this bounds the whole exchange, so a receiver
        # trickling its answer a byte at a time cannot hold the worker (and its lease).
        expired = threading.Event()
        deadline = threading.Timer(self._timeout, _abort, args=(connection, expired))
        deadline.daemon = True
        deadline.start()
        try:
            connection.request("POST", target, body=body, headers=dict(headers))
            response = connection.getresponse()
            response.read(_RESPONSE_BYTES)
            if expired.is_set():  # a cut-off answer can still parse: never count it a success
                raise TransportError("timed out")
            return HttpAnswer(response.status, response.getheader("Retry-After"))
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError("timed out" if expired.is_set() else _describe(exc)) from None
        finally:
            deadline.cancel()
            connection.close()

    def vetted_address(self, host: str, port: int) -> str:
        """The address to connect to; every address the name resolves to must be public."""
        try:
            addresses = self._resolve(host, port)
        except OSError:
            raise TransportError("the host name does not resolve") from None
        if not addresses:
            raise TransportError("the host name does not resolve")
        if not self._allow_private:
            for address in addresses:
                if not is_public_address(ipaddress.ip_address(address.split("%")[0])):
                    raise TransportError(
                        "the host resolves to a loopback, private or link-local address"
                    )
        return addresses[0]


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _abort(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}"[:200]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the vetted address while the Host header still names the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As :class:`_PinnedHTTPConnection`, with TLS verified against the host's name."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, tls: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=tls)
        self._address = address
        self._tls = tls

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
