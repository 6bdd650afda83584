"""Stand-ins for the consent service, for the client's tests: an HTTP server whose answers a
test scripts, and a socket that accepts connections and never answers; and the check that a
client fails closed, which the server's suite uses too (pytest's ``pythonpath`` names this
folder), against the real service refusing a key."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from consent_client import ConsentClient
from consent_client import ConsentDenied
from consent_client import Reason


@dataclasses.dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


# (status, body): a dict/list is sent as JSON, bytes as they are.
Reply = tuple[int, Any]
Responder = Callable[[Seen], Reply]


def documented_answer(subject: str, purpose: str, **overrides: Any) -> dict[str, Any]:
    """One decision as the service's contract spells it."""
    answer = {
        "subject": subject,
        "purpose": purpose,
        "allowed": False,
        "reason": "no_record",
        "receipt_id": None,
        "policy_version": None,
        "jurisdiction": "EU",
        "expires_at": None,
    }
    return {**answer, **overrides}


def answer_everything(allowed: Callable[[str, str], bool]) -> Responder:
    """A responder for GET and POST /v1/decisions deciding each pair with ``allowed``."""

    def one(subject: str, purpose: str) -> dict[str, Any]:
        if allowed(subject, purpose):
            return documented_answer(subject, purpose, allowed=True, reason="granted")
        return documented_answer(subject, purpose, reason="denied")

    def respond(seen: Seen) -> Reply:
        if seen.method == "GET":
            return 200, one(seen.query["subject"], seen.query["purpose"])
        pairs = [(s, p) for s in seen.body["subjects"] for p in seen.body["purposes"]]
        return 200, {"decisions": [one(s, p) for s, p in pairs]}

    return respond


class FakeService:
    """A keep-alive HTTP/1.1 server on a loopback port; records requests and connections."""

    def __init__(self, respond: Responder, *, hang_up_after_each: bool = False) -> None:
        self.respond = respond
        # Close every connection after one answer without saying so, as a server does whose
        # keep-alive timeout ran out between two of the client's requests.
        self.hang_up_after_each = hang_up_after_each
        self.seen: list[Seen] = []
        self.connections = 0
        self.open_connections = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 64 * 1024  # headers and body leave in one segment (no Nagle stall)

            def setup(self) -> None:
                super().setup()
                fake.connections += 1
                fake.open_connections += 1

            def finish(self) -> None:
                fake.open_connections -= 1
                super().finish()

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                seen = Seen(
                    self.command,
                    url.path,
                    dict(urllib.parse.parse_qsl(url.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw) if raw else None,
                )
                fake.seen.append(seen)
                status, body = fake.respond(seen)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = fake.hang_up_after_each

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class SilentServer:
    """Accepts connections and never says a word: what a hung service looks like."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # so the accept loop notices stop()
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._accepted: list[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._accepted.append(connection)

    def stop(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for connection in self._accepted:
            connection.close()


def closed_port_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def unique_customer() -> str:
    return f"C-{uuid.uuid4().hex[:10]}"


def assert_fails_closed(client: ConsentClient, expected_error: str) -> None:
    """No check raises, and every one says "not allowed" because of an error."""
    subject = f"customer:{unique_customer()}"
    assert client.may_process(subject, "necessary") is False
    decision = client.decision(subject, "analytics")
    assert (decision.allowed, decision.reason) == (False, Reason.ERROR)
    assert expected_error in (decision.error or "")
    assert client.filter_allowed([subject, "email:jane@example.com"], "marketing") == []
    bulk = client.decisions([subject], ["necessary", "analytics"])
    assert {d.reason for d in bulk[subject].values()} == {Reason.ERROR}
    with pytest.raises(ConsentDenied):
        client.check(subject, "necessary")
