"""The SSRF guard judges an address by what it reaches: an IPv6 address carrying an IPv4 one
(NAT64, 6to4, Teredo, IPv4-compatible, IPv4-mapped) is judged by the IPv4 address inside."""

from __future__ import annotations

import ipaddress

import pytest

from consent_service.infra.addresses import embedded_ipv4
from consent_service.infra.addresses import is_public_address
from consent_service.infra.addresses import literal_address


def teredo(client: str, server: str = "65.54.227.120") -> str:
    """The Teredo address of ``client`` (stored inverted) behind ``server``."""
    inverted = int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF
    value = (0x20010000 << 96) | (int(ipaddress.IPv4Address(server)) << 64) | inverted
    return str(ipaddress.IPv6Address(value))


# What each wrapped form from issue #13 (and its neighbours) really reaches.
WRAPPED_PRIVATE = {
    "64:ff9b::a9fe:a9fe": "NAT64 of 169.254.169.254, the metadata service",
    "64:ff9b::7f00:1": "NAT64 of 127.0.0.1",
    "64:ff9b::a00:1": "NAT64 of 10.0.0.1",
    "64:ff9b:1::a9fe:a9fe": "local-use NAT64 (RFC 8215), always inside someone's network",
    "64:ff9b:1:ffff::808:808": "local-use NAT64, even of a public address",
    "2002:7f00:1::1": "6to4 of 127.0.0.1",
    "2002:a9fe:a9fe::1": "6to4 of 169.254.169.254",
    "2002:c0a8:101::1": "6to4 of 192.168.1.1",
    "::127.0.0.1": "IPv4-compatible 127.0.0.1",
    "::169.254.169.254": "IPv4-compatible metadata",
    "::10.0.0.1": "IPv4-compatible 10.0.0.1",
    "::ffff:127.0.0.1": "IPv4-mapped 127.0.0.1",
    "::ffff:169.254.169.254": "IPv4-mapped metadata",
    "::ffff:100.64.0.1": "IPv4-mapped CGNAT",
    teredo("127.0.0.1"): "Teredo of 127.0.0.1",
    teredo("169.254.169.254"): "Teredo of the metadata service",
    teredo("8.8.8.8", server="10.0.0.1"): "Teredo with a private server",
}
PLAIN_PRIVATE = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "100.64.0.1": "CGNAT",
    "100.127.255.254": "CGNAT",
    "169.254.169.254": "metadata (link-local)",
    "169.254.1.1": "link-local",
    "0.0.0.0": "unspecified",
    "0.1.2.3": "this network",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "broadcast",
    "192.0.2.1": "documentation",
    "198.18.0.1": "benchmarking",
    "::": "unspecified",
    "::1": "loopback",
    "fe80::1": "link-local",
    "fd00:ec2::254": "the EC2 metadata service over IPv6",
    "fc00::1": "unique local",
    "fec0::1": "site-local",
    "ff02::1": "multicast",
    "ff0e::1": "global-scope multicast",
    "2001:db8::1": "documentation",
    "100::1": "discard-only",
}
PUBLIC = {
    "8.8.8.8": "Google DNS",
    "93.184.215.14": "example.com",
    "2001:4860:4860::8888": "Google DNS over IPv6",
    "2606:4700::1111": "Cloudflare DNS",
    "64:ff9b::808:808": "NAT64 of 8.8.8.8",
    "2002:808:808::1": "6to4 of 8.8.8.8",
    "::ffff:8.8.8.8": "IPv4-mapped 8.8.8.8",
    teredo("8.8.8.8"): "Teredo of 8.8.8.8",
}


@pytest.mark.parametrize("address", list(WRAPPED_PRIVATE), ids=list(WRAPPED_PRIVATE.values()))
def test_an_ipv6_address_wrapping_a_private_ipv4_one_is_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", list(PLAIN_PRIVATE), ids=list(PLAIN_PRIVATE.values()))
def test_loopback_private_link_local_cgnat_multicast_and_reserved_are_not_public(
    address: str,
) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", list(PUBLIC), ids=list(PUBLIC.values()))
def test_public_addresses_are_public_however_they_are_written(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


def test_teredo_unwraps_to_the_server_and_the_uninverted_client() -> None:
    inner = embedded_ipv4(ipaddress.IPv6Address(teredo("127.0.0.1")))
    assert inner == (ipaddress.IPv4Address("65.54.227.120"), ipaddress.IPv4Address("127.0.0.1"))


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),  # what getaddrinfo makes of a decimal number
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0251.0376.0251.0376", "169.254.169.254"),  # octal
        ("64:ff9b::a9fe:a9fe", "64:ff9b::a9fe:a9fe"),
        ("hooks.example.com", None),
        ("cafe.example", None),
        ("deadbeef", None),  # hex letters only: a name, as getaddrinfo reads it
    ],
)
def test_a_host_is_read_as_the_address_it_literally_names(host: str, address: str | None) -> None:
    found = literal_address(host)
    assert (str(found) if found else None) == address
