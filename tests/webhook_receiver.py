"""A real webhook receiver for the tests: ``http.server`` on 127.0.0.1, in a thread.

It records every request (headers and raw body), answers from a script (default 200), and
can verify signatures the way a receiver would, with the independent ``standardwebhooks``.
"""

from __future__ import annotations

import dataclasses
import http.server
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager

from standardwebhooks import Webhook


@dataclasses.dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: str

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    delay: float = 0.0
    trickle: float = 0.0  # seconds spent sending header lines, one every 50 ms


class Receiver:
    def __init__(self, default: Answer | None = None) -> None:
        self.requests: list[Received] = []
        self._script: list[Answer] = []
        self._default = default or Answer()
        self._lock = threading.Lock()
        self.on_request: Callable[[Received], None] | None = None
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                received = Received(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                answer = receiver._record(received)
                if receiver.on_request:
                    receiver.on_request(received)
                time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.flush_headers()
                    deadline = time.monotonic() + answer.trickle
                    while time.monotonic() < deadline:
                        self.wfile.write(b"X-Trickle: 1\r\n")
                        self.wfile.flush()
                        time.sleep(0.05)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up (timed out, or was killed) meanwhile

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def answer(self, *answers: Answer) -> None:
        """Answer the next requests with these, in order, then with the default."""
        with self._lock:
            self._script.extend(answers)

    def _record(self, received: Received) -> Answer:
        with self._lock:
            self.requests.append(received)
            return self._script.pop(0) if self._script else self._default

    def ids(self) -> list[str]:
        with self._lock:
            return [r.webhook_id for r in self.requests]

    def wait_for(self, unique: int, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(set(self.ids())) >= unique:
                return True
            time.sleep(0.05)
        return False

    def verified(self, secret: str) -> list[object]:
        """Every request's payload, each verified with the standardwebhooks library."""
        return [Webhook(secret).verify(r.body, r.headers) for r in self.requests]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def running_receiver(default: Answer | None = None) -> Iterator[Receiver]:
    receiver = Receiver(default)
    try:
        yield receiver
    finally:
        receiver.close()


def register(
    app: object,
    session: object,
    url: str,
    events: tuple[str, ...] = ("consent.changed",),
    property_key: str = "demo-shop",
) -> object:
    """Register an endpoint for ``property_key`` through the domain (not committed)."""
    from consent_service.messaging.webhooks import register_endpoint
    from consent_service.properties.lookup import get_property

    return register_endpoint(
        session,  # type: ignore[arg-type]
        app.extensions["vault"].cipher,  # type: ignore[attr-defined]
        property_id=get_property(session, property_key).id,  # type: ignore[arg-type]
        url=url,
        event_types=list(events),
        allow_private_networks=True,
    )
