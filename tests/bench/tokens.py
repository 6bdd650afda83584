"""Consent tokens: what one costs the service to issue, and how many a shop's server verifies
per second per core with ``consent_client`` (the pure-Python Ed25519 path, the optional
``cryptography`` path, and a token it has already verified, as a forwarder sees the many
events of one visitor).

Everything is CPU time of one thread (``time.process_time``), so the figures are per core and
mostly indifferent to other load on the machine; still, take final figures on a quiet one.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from consent_client import ConsentTokenVerifier
from consent_service.consent.tokens import TokenBasis
from consent_service.decisions.tokens import issue_token
from consent_service.extensions import context_cache
from consent_service.extensions import current_session
from consent_service.extensions import token_issuer
from tests.bench.databases import sqlite_url
from tests.support import ServedApp
from tests.support import demo_consent


def cpu_per_call(call: Callable[[], object], calls: int) -> float:
    """CPU seconds per call, after one call to warm up."""
    call()
    started = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - started) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=2000, help="tokens issued (server)")
    parser.add_argument("--pure", type=int, default=300, help="pure-Python verifications")
    parser.add_argument("--fast", type=int, default=5000, help="cryptography verifications")
    parser.add_argument("--cached", type=int, default=50000, help="repeat verifications")
    args = parser.parse_args()

    # The production default: a property's consent context is cached for 2 s, as look-ups'.
    served = ServedApp(
        Path(tempfile.mkdtemp(prefix="consent-bench-")), sqlite_url(), banner_cache_seconds=2
    )
    try:
        recorded = served.app.test_client().post("/v1/consents", json=demo_consent(uuid.uuid4()))
        assert recorded.status_code == 201, recorded.json
        body = recorded.json
        with served.app.app_context():
            basis = TokenBasis.of_receipt(body["payload"])
            visitor = uuid.UUID(body["payload"]["visitor_id"])

            def issue() -> str:
                return issue_token(
                    current_session(),
                    context_cache(),
                    token_issuer(),
                    property_key="demo-shop",
                    visitor_id=visitor,
                    basis=basis,
                )

            issue_cost = cpu_per_call(issue, args.issues)
            token = issue()
        print("# consent tokens (CPU time of one thread: per core)")
        print(f"server: issue one token (decide x 5 purposes + sign)  {issue_cost * 1e3:8.3f} ms")
        print(f"server: token size                                    {len(token):8d} bytes")

        def rate(backend: str, calls: int, *, remember: bool) -> float:
            verifier = ConsentTokenVerifier(
                served.url, signature_backend=backend, cache_size=4096 if remember else 0
            )
            cost = cpu_per_call(
                lambda: verifier.verify_consent_token(token, property="demo-shop"), calls
            )
            return 1 / cost

        pure = rate("pure", args.pure, remember=False)
        fast = rate("cryptography", args.fast, remember=False)
        cached = rate("auto", args.cached, remember=True)
        print(f"client: verify, pure Python (stdlib only)             {pure:8.0f} /s per core")
        print(f"client: verify, cryptography (consent-client[fast])   {fast:8.0f} /s per core")
        print(f"client: verify a token seen before (signature cached) {cached:8.0f} /s per core")
    finally:
        served.stop()


if __name__ == "__main__":
    main()
