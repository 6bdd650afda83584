"""The signing time of itsdangerous' timed tokens, given rather than read from the clock.

A caller that must date a token (a test of expiry) passes ``signed_at``; everyone else gets
itsdangerous' own signer, which reads the clock.
"""

from __future__ import annotations

import datetime as dt

from itsdangerous import TimestampSigner


def dated_signer(signed_at: dt.datetime | None = None) -> type[TimestampSigner]:
    """itsdangerous' timestamp signer, stamping ``signed_at`` (default: the current time)."""
    if signed_at is None:
        return TimestampSigner
    stamp = int(signed_at.timestamp())

    class DatedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    return DatedSigner
