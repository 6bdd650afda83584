"""itsdangerous' timed tokens: the HMAC-SHA256 format, and a signing time given rather than
read from the clock.

A caller that must date a token (a test of expiry) passes ``signed_at``; everyone else gets
itsdangerous' own signer, which reads the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer


def dated_signer(signed_at: dt.datetime | None = None) -> type[TimestampSigner]:
    """itsdangerous' timestamp signer, stamping ``signed_at`` (default: the current time)."""
    if signed_at is None:
        return TimestampSigner
    stamp = int(signed_at.timestamp())

    class DatedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    return DatedSigner


def hmac_sha256_serializer(
    secret_keys: str | list[str], salt: str, *, signed_at: dt.datetime | None = None
) -> URLSafeTimedSerializer:
    """Timed tokens signed with plain HMAC-SHA256 over the key (no key derivation by SHA-1), the
    format a shop's backend can make with any HMAC library (and the Python client makes). With a
    list of keys the last signs and every one verifies."""
    return URLSafeTimedSerializer(
        secret_keys,
        salt=salt,
        signer=dated_signer(signed_at),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
    )
