"""The service's public signing keys (``/.well-known/jwks.json``), fetched when first needed
and kept for a while, for verifying consent tokens offline.

Rotation: a token naming a key id the cached set lacks fetches the set again at once (the
service publishes a new key before it signs with it), but at most once per
``refetch_interval`` seconds, so a stream of tokens with made-up key ids cannot turn into a
stream of requests to the service. A set older than ``max_age`` is fetched again before use;
when it cannot be fetched, nothing verifies (fail closed) until a fetch succeeds, tried again
at most once per ``refetch_interval``.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any
from typing import Protocol

from consent_client.errors import ConsentTokenUnverifiable
from consent_client.errors import InvalidConsentToken
from consent_client.transport import USER_AGENT

JWKS_PATH = "/.well-known/jwks.json"
MAX_JWKS_BYTES = 1024 * 1024
# The names of an Ed25519 signature a JWK may declare (RFC 8037's, and RFC 9864's).
SIGNATURE_ALGS = ("EdDSA", "Ed25519")


class VerifyingKey(Protocol):
    def verify(self, signature: bytes, message: bytes) -> bool: ...


class JwksCache:
    """Key ids to verifying keys, thread-safe. ``key_type`` makes a key of 32 raw bytes (the
    pure-Python or the ``cryptography`` one); ``monotonic`` is injectable for tests."""

    def __init__(
        self,
        base_url: str,
        *,
        key_type: Callable[[bytes], VerifyingKey],
        timeout: float = 2.0,
        max_age: float = 300.0,
        refetch_interval: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        url = urllib.parse.urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.url = base_url.rstrip("/") + JWKS_PATH
        self._host, self._port = url.hostname, url.port
        self._target = url.path.rstrip("/") + JWKS_PATH
        self._ssl_context = (
            (ssl_context or ssl.create_default_context()) if url.scheme == "https" else None
        )
        self._key_type = key_type
        self._timeout = timeout
        self._max_age = max_age
        self._refetch_interval = refetch_interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._keys: dict[str, VerifyingKey] = {}
        self._raw: dict[str, str] = {}
        self._fetched_at: float | None = None  # the last fetch that succeeded
        self._tried_at: float | None = None  # the last fetch, whatever became of it
        self._failure: str | None = None  # why the last fetch failed
        self.generation = 0  # goes up whenever a fetch changes the keys

    def key(self, kid: str) -> VerifyingKey:
        """The key ``kid`` names; InvalidConsentToken when the service has no such key,
        ConsentTokenUnverifiable when its keys cannot be fetched."""
        with self._lock:
            now = self._monotonic()
            fresh = self._fetched_at is not None and now - self._fetched_at < self._max_age
            if fresh and kid in self._keys:
                return self._keys[kid]
            may_fetch = self._tried_at is None or now - self._tried_at >= self._refetch_interval
            if may_fetch:
                self._fetch(now)
                fresh = self._failure is None
            if not fresh:
                raise ConsentTokenUnverifiable(
                    f"the service's signing keys could not be fetched from {self.url}: "
                    f"{self._failure or 'not fetched yet'}"
                )
            found = self._keys.get(kid)
            if found is None:
                raise InvalidConsentToken(
                    f"signed with key {kid!r}, which the service does not have"
                )
            return found

    def _fetch(self, now: float) -> None:
        self._tried_at = now
        try:
            raw = _jwk_set(self._get())
        except (OSError, http.client.HTTPException, ValueError) as exc:
            self._failure = str(exc) or type(exc).__name__
            return
        self._failure = None
        self._fetched_at = now
        if raw != self._raw:
            self._raw, self._keys = raw, self._usable(raw)
            self.generation += 1

    def _usable(self, raw: dict[str, str]) -> dict[str, VerifyingKey]:
        """The keys that decode; one that does not could verify nothing anyway."""
        keys = {}
        for kid, x in raw.items():
            try:
                keys[kid] = self._key_type(b64url_decode(x))
            except ValueError:
                continue
        return keys

    def _get(self) -> bytes:
        connection: http.client.HTTPConnection
        if self._ssl_context is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        else:
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=self._ssl_context
            )
        try:
            headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
            connection.request("GET", self._target, headers=headers)
            response = connection.getresponse()
            body = response.read(MAX_JWKS_BYTES + 1)
        finally:
            connection.close()
        if response.status != 200:
            raise ValueError(f"HTTP {response.status}")
        if len(body) > MAX_JWKS_BYTES:
            raise ValueError(f"the key set is larger than {MAX_JWKS_BYTES} bytes")
        return body


def _jwk_set(body: bytes) -> dict[str, str]:
    """``{kid: x}`` of the Ed25519 signing keys in a JWK Set (RFC 7517 §5); keys of other
    types or uses are skipped, as the RFC asks of members a reader does not understand."""
    try:
        document: Any = json.loads(body)
    except ValueError:
        raise ValueError("the key set is not JSON") from None
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise ValueError("the key set has no 'keys' list")
    found: dict[str, str] = {}
    for jwk in keys:
        if not isinstance(jwk, dict) or (jwk.get("kty"), jwk.get("crv")) != ("OKP", "Ed25519"):
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", "EdDSA") not in SIGNATURE_ALGS:
            continue
        kid, x = jwk.get("kid"), jwk.get("x")
        if isinstance(kid, str) and isinstance(x, str):
            found[kid] = x
    return found


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url (RFC 7515 §2): any other character is a ValueError."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
