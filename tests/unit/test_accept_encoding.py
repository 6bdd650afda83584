"""Which clients get gzip (RFC 9110 §12.5.3): those that accept it with a weight above 0, and
no one who did not ask or who named plain bytes with more weight."""

from __future__ import annotations

import gzip

import pytest

from consent_service.web.compression import Compressed
from consent_service.web.compression import gzip_accepted


@pytest.mark.parametrize(
    ("header", "gzipped"),
    [
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),  # what browsers send
        ("GZIP", True),  # coding names are case-insensitive
        ("x-gzip", True),  # its alias (RFC 9110 §8.4.1.3)
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("*", True),  # any coding
        ("br, *;q=0.5", True),  # gzip through the wildcard
        ("gzip;q=0.001", True),
        (None, False),  # no header: the body as is
        ("", False),  # "no coding wanted"
        ("identity", False),
        ("br, deflate", False),
        ("gzip;q=0", False),  # q=0: not acceptable
        ("gzip;q=0.000", False),
        ("gzip;q=0, *", False),  # named with 0 outranks the wildcard
        ("*;q=0", False),
        ("*;q=0, br", False),
        ("identity;q=1, gzip;q=0.5", False),  # plain bytes preferred
        ("gzip;q=1.5", False),  # not a weight: the element is dropped
        ("gzip;q=.5", False),
        ("gzip;q=0.1234", False),
        ("gzip;q=abc", False),
        (";;;,,, ", False),
    ],
)
def test_who_gets_gzip(header, gzipped):
    assert gzip_accepted(header) is gzipped


def test_each_coding_is_its_own_representation_with_its_own_tag():
    body = b'{"banner": "' + b"words " * 200 + b'"}'
    compressed = Compressed.of(body, "abc123")
    plain, packed = compressed.for_client(None), compressed.for_client("gzip")
    assert (plain.body, plain.etag, plain.encoding) == (body, "abc123", None)
    assert (packed.etag, packed.encoding) == ("abc123-gzip", "gzip")
    assert gzip.decompress(packed.body) == body
    assert Compressed.of(body, "abc123").gzipped.body == packed.body  # no timestamp: stable
