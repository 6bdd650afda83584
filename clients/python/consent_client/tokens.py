"""Verifying consent tokens offline: what the service decided for one browser, signed.

The widget keeps a token in a first-party cookie (``consent_token_<property>`` unless the tag
names another), so the shop's own servers receive it with every request. A token verifies
against the service's JWKS with no look-up; anything doubtful raises InvalidConsentToken, and
a refused token means no consent (fail closed)::

    from consent_client import ConsentTokenVerifier, InvalidConsentToken, allows

    tokens = ConsentTokenVerifier("https://consent.example")
    try:
        claims = tokens.verify_consent_token(request.cookies.get("consent_token_shop"),
                                             property="shop")
    except InvalidConsentToken:
        claims = None
    if allows(claims, "marketing"):
        send_to_ad_platform(event)

What a token proves, and what not: README "Consent tokens".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import Literal

from consent_client import ed25519
from consent_client.decision import ALLOWING_REASONS
from consent_client.decision import Decision
from consent_client.decision import Reason
from consent_client.errors import InvalidConsentToken
from consent_client.jwks import JwksCache
from consent_client.jwks import VerifyingKey
from consent_client.jwks import b64url_decode

TOKEN_TYP = "consent-token+jwt"
TOKEN_SCHEMA = "consent-service/consent-token/v1"
# Ed25519 by either name (RFC 8037's "EdDSA", RFC 9864's "Ed25519"); nothing else, ever: not
# "none", not an HMAC keyed with the public key.
ACCEPTED_ALGS = ("Ed25519", "EdDSA")
MAX_TOKEN_LENGTH = 8192
DEFAULT_LEEWAY = 30.0  # seconds of clock difference between the service and this server

Backend = Literal["auto", "pure", "cryptography"]


@dataclasses.dataclass(frozen=True)
class ConsentTokenClaims:
    """A verified token: at ``issued_at`` the service decided ``decisions`` for the browser
    whose visitor id is ``subject``, on the receipt ``receipt_id``; valid until
    ``expires_at``. Each decision is what a look-up would have answered then."""

    property: str
    subject: str  # the widget's visitor id (never an email or a customer reference)
    jurisdiction: str
    receipt_id: str
    policy_version: int
    decisions: Mapping[str, Decision]
    issued_at: dt.datetime
    expires_at: dt.datetime
    key_id: str

    def decision(self, purpose: str) -> Decision:
        """The token's decision for ``purpose``; a refusal when the token says nothing of it
        (a purpose the property added after the token was issued)."""
        found = self.decisions.get(purpose)
        if found is not None:
            return found
        return Decision.failed(
            f"visitor:{self.subject}", purpose, "the consent token says nothing about this purpose"
        )

    def allows(self, purpose: str) -> bool:
        return self.decision(purpose).allowed


def allows(claims: ConsentTokenClaims | None, purpose: str) -> bool:
    """Whether verified ``claims`` allow ``purpose``; False without claims (no token, or one
    that did not verify) and for a purpose the token does not name."""
    return claims is not None and claims.allows(purpose)


class ConsentTokenVerifier:
    """Verifies one service's consent tokens; thread-safe, one per process is enough.

    ``leeway``: seconds of clock difference tolerated on ``exp`` and ``iat``. ``jwks_max_age``
    and ``jwks_refetch_interval``: see :mod:`consent_client.jwks`. ``signature_backend``:
    ``auto`` uses ``cryptography`` (OpenSSL) when it is installed and the pure-Python
    verifier otherwise; ``pure`` or ``cryptography`` force one. ``cache_size``: how many
    verified tokens are remembered, so the many events of one visitor cost one signature
    check (each use still checks ``exp`` and the property).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 2.0,
        leeway: float = DEFAULT_LEEWAY,
        jwks_max_age: float = 300.0,
        jwks_refetch_interval: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        signature_backend: Backend = "auto",
        cache_size: int = 4096,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.leeway = leeway
        self.keys = JwksCache(
            base_url,
            key_type=_key_type(signature_backend),
            timeout=timeout,
            max_age=jwks_max_age,
            refetch_interval=jwks_refetch_interval,
            ssl_context=ssl_context,
            monotonic=monotonic,
        )
        self._cache_size = cache_size
        self._verified: OrderedDict[str, tuple[int, ConsentTokenClaims]] = OrderedDict()
        self._lock = threading.Lock()

    def verify_consent_token(
        self, token: str | None, *, property: str, now: float | None = None
    ) -> ConsentTokenClaims:
        """The claims of ``token`` once it is proven the service's, current, and for
        ``property``; InvalidConsentToken otherwise (ConsentTokenUnverifiable when the
        service's keys cannot be fetched). ``now``: Unix seconds, for tests."""
        claims = self._remembered(token) if isinstance(token, str) else None
        if claims is None:
            claims = self._verify_signature(token)
        if claims.property != property:
            raise InvalidConsentToken(
                f"the token is for property {claims.property!r}, not {property!r}"
            )
        moment = time.time() if now is None else now
        if moment >= claims.expires_at.timestamp() + self.leeway:
            raise InvalidConsentToken(f"the token expired at {claims.expires_at.isoformat()}")
        if claims.issued_at.timestamp() > moment + self.leeway:
            raise InvalidConsentToken("the token was issued in the future: check the clocks")
        return claims

    def _verify_signature(self, token: object) -> ConsentTokenClaims:
        header, header_b64, payload_b64, signature = _split(token)
        kid = header["kid"]
        key = self.keys.key(kid)
        generation = self.keys.generation
        if not key.verify(signature, f"{header_b64}.{payload_b64}".encode("ascii")):
            raise InvalidConsentToken("the signature does not match: the token was altered")
        claims = _claims(_json_object(payload_b64, "claims"), kid)
        assert isinstance(token, str)
        self._remember(token, generation, claims)
        return claims

    def _remembered(self, token: str) -> ConsentTokenClaims | None:
        with self._lock:
            found = self._verified.get(token)
            if found is None:
                return None
            if found[0] != self.keys.generation:  # the keys changed: check it again
                del self._verified[token]
                return None
            self._verified.move_to_end(token)
            return found[1]

    def _remember(self, token: str, generation: int, claims: ConsentTokenClaims) -> None:
        if self._cache_size <= 0:
            return
        with self._lock:
            self._verified[token] = (generation, claims)
            self._verified.move_to_end(token)
            while len(self._verified) > self._cache_size:
                self._verified.popitem(last=False)


def _key_type(backend: Backend) -> Callable[[bytes], VerifyingKey]:
    if backend == "pure":
        return ed25519.PublicKey
    try:
        from consent_client import fast_ed25519
    except ImportError:
        if backend == "cryptography":
            raise
        return ed25519.PublicKey
    return fast_ed25519.PublicKey


def _split(token: object) -> tuple[dict[str, Any], str, str, bytes]:
    """The header (checked: a consent token, Ed25519, a key id), the two signed parts as
    sent, and the signature's bytes."""
    if not isinstance(token, str) or not token:
        raise InvalidConsentToken("there is no consent token")
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidConsentToken("not a consent token (too long, or not ASCII)")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidConsentToken("not a compact JWS (three base64url parts)")
    header_b64, payload_b64, signature_b64 = parts
    header = _json_object(header_b64, "header")
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGS:
        raise InvalidConsentToken(f"alg {alg!r} is not accepted: consent tokens are Ed25519")
    if header.get("typ") != TOKEN_TYP:
        raise InvalidConsentToken(
            f"typ {header.get('typ')!r} is not {TOKEN_TYP!r}: not a consent token "
            "(a receipt, perhaps)"
        )
    if "crit" in header:
        raise InvalidConsentToken("the header has critical extensions this verifier lacks")
    if not isinstance(header.get("kid"), str):
        raise InvalidConsentToken("the header names no key (kid)")
    try:
        signature = b64url_decode(signature_b64)
    except ValueError:
        raise InvalidConsentToken("the signature is not base64url") from None
    return header, header_b64, payload_b64, signature


def _json_object(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(part))
    except ValueError:  # bad base64url, bad UTF-8, bad JSON
        raise InvalidConsentToken(f"the {what} is not base64url JSON") from None
    if not isinstance(value, dict):
        raise InvalidConsentToken(f"the {what} is not a JSON object")
    return value


def _claims(raw: Mapping[str, Any], kid: str) -> ConsentTokenClaims:
    """The claims, read as strictly as look-up answers are: anything unexpected is refused."""
    if raw.get("schema") != TOKEN_SCHEMA:
        raise InvalidConsentToken(
            f"schema {raw.get('schema')!r} is not {TOKEN_SCHEMA!r}: not a consent token"
        )
    subject = _field(raw, "sub", str)
    receipt_id = _field(raw, "receipt_id", str)
    policy_version = _field(raw, "policy_version", int)
    jurisdiction = _field(raw, "jurisdiction", str)
    decisions = _field(raw, "decisions", dict)
    issued_at, expires_at = _time(raw, "iat"), _time(raw, "exp")
    if expires_at <= issued_at:
        raise InvalidConsentToken("the token expires before it was issued")
    parsed = {}
    for purpose, answer in decisions.items():
        allowed = _field(answer if isinstance(answer, dict) else {}, "allowed", bool)
        reason = answer.get("reason")
        if reason not in Reason.__members__.values() or reason == Reason.ERROR:
            raise InvalidConsentToken(f"purpose {purpose!r}: unknown reason {reason!r}")
        if allowed and Reason(reason) not in ALLOWING_REASONS:
            raise InvalidConsentToken(f"purpose {purpose!r}: allowed, yet the reason is {reason!r}")
        parsed[purpose] = Decision(
            allowed=allowed,
            reason=Reason(reason),
            receipt_id=receipt_id,
            policy_version=policy_version,
            jurisdiction=jurisdiction,
            subject=f"visitor:{subject}",
            purpose=purpose,
        )
    return ConsentTokenClaims(
        property=_field(raw, "property", str),
        subject=subject,
        jurisdiction=jurisdiction,
        receipt_id=receipt_id,
        policy_version=policy_version,
        decisions=parsed,
        issued_at=issued_at,
        expires_at=expires_at,
        key_id=kid,
    )


def _field(raw: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    value = raw.get(name)
    # bool is an int in Python; the token's JSON never means one as the other.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidConsentToken(f"the claim {name!r} must be a {kind.__name__}, not {value!r}")
    return value


def _time(raw: Mapping[str, Any], name: str) -> dt.datetime:
    seconds = _field(raw, name, int)
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidConsentToken(f"the claim {name!r} is not a time") from None
