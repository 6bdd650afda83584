"""gzip for bodies the service serves again and again (the widget's files, the banner): each
compressed once, and the coding chosen per request from ``Accept-Encoding`` (RFC 9110
§12.5.3), for every surface alike.

The two codings are two representations (RFC 9110 §8.4, §8.8.3): each has its own strong
ETag (the gzipped one's is the plain one's with ``-gzip``), and every answer says
``Vary: Accept-Encoding``, so a cache never hands one to a client that asked for the other.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip

GZIP = "gzip"
GZIP_SUFFIX = "-gzip"


@dataclasses.dataclass(frozen=True)
class Representation:
    """What to send: the body, its strong ETag (unquoted), its Content-Encoding (None: as
    is)."""

    body: bytes
    etag: str
    encoding: str | None


@dataclasses.dataclass(frozen=True)
class Compressed:
    """A body with its gzipped copy, made once (gzip -9, no timestamp: the same bytes every
    time, so the ETag holds across processes)."""

    plain: Representation
    gzipped: Representation

    @classmethod
    def of(cls, body: bytes, etag: str, gzipped: bytes | None = None) -> Compressed:
        """``body`` whose strong ETag (unquoted) is ``etag``; ``gzipped`` if already made."""
        packed = gzipped if gzipped is not None else gzip.compress(body, 9, mtime=0)
        return cls(
            Representation(body, etag, None), Representation(packed, etag + GZIP_SUFFIX, GZIP)
        )

    def for_client(self, accept_encoding: str | None) -> Representation:
        """The representation a client sending ``accept_encoding`` gets."""
        return self.gzipped if gzip_accepted(accept_encoding) else self.plain


@functools.lru_cache(maxsize=256)
def gzip_accepted(accept_encoding: str | None) -> bool:
    """Whether a client sending this ``Accept-Encoding`` gets gzip (RFC 9110 §12.5.3).

    gzip (or its alias x-gzip), or ``*`` for codings not named, with a weight above 0, and
    not below an ``identity`` the client names with more weight. No header, an empty one, or
    anything unreadable: the body as is, which every client accepts. Browsers send a handful
    of distinct values, so each is parsed once per process.
    """
    if not accept_encoding:
        return False
    weights: dict[str, float] = {}
    for element in accept_encoding.split(","):
        coding, _, parameters = element.partition(";")
        coding = coding.strip().lower()
        weight = _weight(parameters)
        if coding and weight is not None:
            weights.setdefault("gzip" if coding == "x-gzip" else coding, weight)
    gzip_weight = weights.get(GZIP, weights.get("*", 0.0))
    return gzip_weight > 0 and gzip_weight >= weights.get("identity", 0.0)


def _weight(parameters: str) -> float | None:
    """The ``q`` of an element's parameters (1 when absent); None when it is not a weight
    RFC 9110 §12.4.2 allows (0 to 1, at most three decimals), which drops the element."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() != "q":
            continue
        value = value.strip()
        integer, _, decimals = value.partition(".")
        if integer not in ("0", "1") or len(decimals) > 3 or not (decimals or "0").isdigit():
            return None
        weight = float(value)
        return weight if weight <= 1 else None
    return 1.0
