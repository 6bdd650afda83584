"""``GET /v1/banner`` gzipped for clients that accept it: the same banner, its own ETag, a
``Vary: Accept-Encoding`` on every answer, conditional requests answered per coding, and
the body compressed once per cached answer, not per request."""

from __future__ import annotations

import gzip

import pytest

from consent_service.web import compression

BANNER = "/v1/banner?property=demo-shop&region=FR"


def fetch(client, accept_encoding: str | None = None, **headers: str):
    if accept_encoding is not None:
        headers["Accept-Encoding"] = accept_encoding
    return client.get(BANNER, headers=headers)


def vary(response) -> list[str]:
    return [name.strip() for name in response.headers["Vary"].split(",")]


def test_a_client_that_accepts_gzip_gets_the_same_banner_gzipped(client):
    plain = fetch(client)
    packed = fetch(client, "gzip, deflate, br")
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 2
    assert packed.headers["Content-Type"] == plain.headers["Content-Type"] == "application/json"
    assert "Accept-Encoding" in vary(plain) and "Accept-Encoding" in vary(packed)
    assert vary(plain) == vary(packed)
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'


@pytest.mark.parametrize("accept_encoding", ["gzip;q=0", "*;q=0", "identity", "br"])
def test_a_client_that_refuses_gzip_or_does_not_ask_gets_plain_json(client, accept_encoding):
    response = fetch(client, accept_encoding)
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.json["property"] == "demo-shop"
    assert "Accept-Encoding" in vary(response)


def test_revalidation_is_per_coding(client):
    plain_tag = fetch(client).headers["ETag"]
    packed_tag = fetch(client, "gzip").headers["ETag"]
    again = fetch(client, "gzip", **{"If-None-Match": packed_tag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == packed_tag
    assert "Accept-Encoding" in vary(again)
    # Weak comparison (RFC 9110 §13.1.2): a weak form of the tag matches too.
    assert fetch(client, "gzip", **{"If-None-Match": "W/" + packed_tag}).status_code == 304
    # The gzip tag does not validate the plain representation, nor the other way round.
    assert fetch(client, **{"If-None-Match": packed_tag}).status_code == 200
    assert fetch(client, "gzip", **{"If-None-Match": plain_tag}).status_code == 200
    assert fetch(client, **{"If-None-Match": plain_tag}).status_code == 304


def test_the_banner_is_compressed_once_per_cached_answer(client, monkeypatch):
    compressed: list[int] = []
    real = compression.gzip.compress

    def counting(data: bytes, *args: object, **kwargs: object) -> bytes:
        compressed.append(len(data))
        return real(data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(compression.gzip, "compress", counting)
    for accept_encoding in ("gzip", "gzip", None, "br, gzip"):  # none cached before this test
        assert fetch(client, accept_encoding).status_code == 200
    assert len(compressed) == 1
