"""What ``make bench`` sends: three request streams, each generated the same way by wrk
(``wrk_workload.lua``) and by the Python clients (:mod:`tests.bench.http_load`).

The bare Flask endpoint (:mod:`tests.bench.inprocess`) answers the same paths, so one
workload loads the service and its baseline identically.
"""

from __future__ import annotations

import dataclasses
import json
import random
import uuid
from collections.abc import Iterator

from tests.bench.seed import customer_ref
from tests.support import demo_consent

BANNER_PATH = "/v1/banner?property=demo-shop&locale=de"


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Workload:
    """One request stream: ``kind`` is the Lua script's (consent, lookup or fixed)."""

    label: str
    kind: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    customers: int = 0
    # The status every answer must have, for the Python clients (wrk counts anything
    # above 399 as an error, which the bench refuses as well).
    status: int = 200

    def requests(self, seed: int) -> Iterator[Request]:
        """The stream one connection sends, without end."""
        rng = random.Random(seed)
        headers = dict(self.headers)
        if self.kind == "consent":
            headers["Content-Type"] = "application/json"
        while True:
            if self.kind == "consent":
                body = json.dumps(demo_consent(uuid.UUID(int=rng.getrandbits(128), version=4)))
                yield Request("POST", self.path, body.encode(), headers)
            elif self.kind == "lookup":
                yield Request("GET", lookup_path(rng.randrange(self.customers)), None, headers)
            else:
                yield Request("GET", self.path, None, headers)

    def lua_arguments(self, run: str) -> list[str]:
        """The arguments ``wrk_workload.lua`` takes after ``--``."""
        return [
            self.kind,
            run,
            str(self.customers),
            *(f"{name}: {value}" for name, value in self.headers),
        ]


def lookup_path(customer: int) -> str:
    return f"/v1/decisions?subject=customer:{customer_ref(customer)}&purpose=marketing"


def decisions(api_key: str, customers: int) -> Workload:
    """Single look-ups of random seeded customers with an API key."""
    return Workload(
        "GET /v1/decisions",
        "lookup",
        "/v1/decisions",
        (("Authorization", f"Bearer {api_key}"),),
        customers=customers,
    )


def consents() -> Workload:
    """A first-time visitor's custom choice each time: the common write on a shop."""
    return Workload("POST /v1/consents", "consent", "/v1/consents", status=201)


def banner() -> Workload:
    """The widget's configuration fetch, with the Accept-Encoding a browser sends."""
    return Workload(
        "GET /v1/banner", "fixed", BANNER_PATH, (("Accept-Encoding", "gzip, deflate, br, zstd"),)
    )
