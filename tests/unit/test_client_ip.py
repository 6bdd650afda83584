"""The client address is the socket peer, or what our own proxies say it is: never what the
client says about itself."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent_service.jurisdictions.regions import client_ip

PROXY = "10.0.0.5"


def test_with_no_trusted_proxy_the_socket_peer_is_the_client_and_forwarded_for_is_ignored():
    assert client_ip("203.0.113.9", "1.2.3.4", 0) == "203.0.113.9"


def test_with_one_trusted_proxy_the_address_it_appended_is_the_client():
    assert client_ip(PROXY, "203.0.113.9", 1) == "203.0.113.9"


def test_a_client_supplied_forwarded_for_cannot_choose_the_client_address():
    # The client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended the address it saw.
    assert client_ip(PROXY, "1.2.3.4, 203.0.113.9", 1) == "203.0.113.9"


def test_separate_forwarded_for_header_lines_form_one_chain_in_order():
    assert client_ip(PROXY, ["1.2.3.4, 5.6.7.8", "203.0.113.9"], 1) == "203.0.113.9"


def test_with_two_trusted_proxies_the_client_is_second_from_the_right():
    assert client_ip(PROXY, "1.2.3.4, 203.0.113.9, 10.0.0.4", 2) == "203.0.113.9"


def test_fewer_entries_than_trusted_hops_gives_the_left_most_entry():
    assert client_ip(PROXY, "203.0.113.9", 3) == "203.0.113.9"


def test_no_forwarded_for_behind_trusted_proxies_gives_the_socket_peer():
    assert client_ip(PROXY, None, 1) == PROXY
    assert client_ip(PROXY, [], 1) == PROXY
    assert client_ip(PROXY, " , ", 1) == PROXY


def test_a_malformed_entry_in_our_part_of_the_chain_gives_none_not_the_clients_part():
    assert client_ip(PROXY, "203.0.113.9, unknown", 1) is None
    assert client_ip(PROXY, "203.0.113.9, 999.1.1.1", 1) is None


def test_malformed_entries_the_client_supplied_are_never_read():
    assert client_ip(PROXY, "<script>, ;DROP TABLE, 203.0.113.9", 1) == "203.0.113.9"


@pytest.mark.parametrize(
    ("entry", "address"),
    [
        ("203.0.113.9:51234", "203.0.113.9"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("fe80::1%eth0", "fe80::1"),
    ],
)
def test_addresses_are_returned_bare_and_normalised(entry, address):
    assert client_ip(PROXY, entry, 1) == address


@pytest.mark.parametrize("peer", [None, "", "not-an-ip", "203.0.113.9/24"])
def test_a_missing_or_malformed_socket_peer_gives_none(peer):
    assert client_ip(peer, None, 0) is None


_ipv4 = st.ip_addresses(v=4).map(str)


@given(
    spoofed=st.lists(st.one_of(_ipv4, st.text(alphabet="0123456789.:abcdef ", max_size=20))),
    client=_ipv4,
    proxies=st.lists(_ipv4, max_size=3),
)
def test_whatever_the_client_prepends_the_address_our_first_proxy_saw_wins(
    spoofed, client, proxies
):
    chain = [*spoofed, client, *proxies]
    assert client_ip(PROXY, ", ".join(chain), len(proxies) + 1) == client
