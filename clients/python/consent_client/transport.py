"""JSON over HTTP to the service with the standard library: one keep-alive connection per
thread, a timeout on every socket operation, and one error type for every way it can fail.

``http.client`` connections are not thread-safe, so each thread gets its own; they are kept
open between calls because a consent look-up is on the shop's request path and a new TCP
(and TLS) handshake per look-up would cost more than the look-up itself.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import urllib.parse
import weakref
from collections.abc import Mapping
from typing import Any

from consent_client.errors import ServiceError

MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # 10,000 decisions are about 3 MB
USER_AGENT = "consent-service-client/1 (python)"

# A kept-alive connection the server has meanwhile closed fails like this on first use; the
# request never reached the application, so sending it once more on a new connection is safe.
_STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Transport:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        url = urllib.parse.urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        if not api_key or any(ch.isspace() for ch in api_key):
            raise ValueError("api_key must be the key as issued, csk_...")
        self.base_url = base_url.rstrip("/")
        self._host = url.hostname
        self._port = url.port
        self._prefix = url.path.rstrip("/")
        self._timeout = timeout
        # HTTPS verifies certificates and host names unless the caller passes its own context.
        self._ssl_context = (
            (ssl_context or ssl.create_default_context()) if url.scheme == "https" else None
        )
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": user_agent,
        }
        self._local = threading.local()
        self._all: weakref.WeakSet[http.client.HTTPConnection] = weakref.WeakSet()
        self._lock = threading.Lock()

    def get(self, path: str, params: Mapping[str, str]) -> Any:
        return self._call("GET", f"{path}?{urllib.parse.urlencode(params)}", None)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return self._call("POST", path, json.dumps(body, separators=(",", ":")).encode())

    def close(self) -> None:
        """Close every thread's connection (a thread that calls again opens a new one)."""
        with self._lock:
            connections = list(self._all)
            self._all.clear()
        for connection in connections:
            connection.close()

    def _call(self, method: str, target: str, body: bytes | None) -> Any:
        status, headers, data = self._exchange(method, self._prefix + target, body)
        if not 200 <= status < 300:
            raise _refusal(status, headers, data)
        try:
            return json.loads(data)
        except ValueError:
            raise ServiceError(
                f"HTTP {status} from the service, but the body is not JSON", status=status
            ) from None

    def _exchange(
        self, method: str, target: str, body: bytes | None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            connection, reused = self._connection()
            try:
                connection.request(method, target, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read(MAX_RESPONSE_BYTES + 1)
            except _STALE_CONNECTION as exc:
                self._drop(connection)
                if reused and attempt == 1:
                    continue
                raise ServiceError(f"the service at {self.base_url} hung up: {exc!r}") from exc
            except TimeoutError as exc:
                self._drop(connection)
                raise ServiceError(
                    f"no answer from {self.base_url} within {self._timeout} s"
                ) from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop(connection)
                raise ServiceError(f"cannot talk to {self.base_url}: {exc!r}") from exc
            if len(data) > MAX_RESPONSE_BYTES:
                self._drop(connection)
                raise ServiceError(f"the answer is larger than {MAX_RESPONSE_BYTES} bytes")
            return response.status, response.headers, data
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it has carried a request before."""
        slot: _Slot | None = getattr(self._local, "slot", None)
        if slot is not None:
            return slot.connection, True
        connection = self._new_connection()
        slot = _Slot(connection)
        # A thread's locals go when it ends; the connection is closed then, not leaked, which
        # matters under servers that start a thread per request.
        weakref.finalize(slot, connection.close)
        self._local.slot = slot
        with self._lock:
            self._all.add(connection)
        return connection, False

    def _new_connection(self) -> http.client.HTTPConnection:
        if self._ssl_context is None:
            return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        return http.client.HTTPSConnection(
            self._host, self._port, timeout=self._timeout, context=self._ssl_context
        )

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        self._local.slot = None
        with self._lock:
            self._all.discard(connection)


class _Slot:
    """Holds one thread's connection; its finalizer closes the connection."""

    __slots__ = ("__weakref__", "connection")

    def __init__(self, connection: http.client.HTTPConnection) -> None:
        self.connection = connection


def _refusal(status: int, headers: http.client.HTTPMessage, data: bytes) -> ServiceError:
    """The service's RFC 9457 problem, as an error that says what happened."""
    problem: dict[str, Any] | None = None
    try:
        parsed = json.loads(data)
        problem = parsed if isinstance(parsed, dict) else None
    except ValueError:
        pass
    message = f"HTTP {status}"
    if problem:
        said = [str(problem[key]) for key in ("title", "detail") if problem.get(key)]
        message += " " + ": ".join(said) if said else ""
        errors = problem.get("errors")
        for error in errors if isinstance(errors, list) else ():
            if isinstance(error, dict):
                message += f"; {error.get('pointer', '')} {error.get('detail', '')}"
    retry_after = _seconds(headers.get("Retry-After"))
    if retry_after is not None:
        message += f" (retry after {retry_after:g} s)"
    return ServiceError(message, status=status, problem=problem, retry_after=retry_after)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
