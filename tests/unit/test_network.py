"""Receipts keep only coarse network data."""

from __future__ import annotations

import pytest

from consent_service.infra.network import truncate_ip


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        (None, None),
        ("not-an-ip", None),
    ],
)
def test_addresses_are_truncated_to_their_network(address, network):
    assert truncate_ip(address) == network
