"""Whether an IP address reaches the public internet, judged by what it reaches.

An IPv6 address can carry an IPv4 one that the network unwraps on the way: NAT64
(``64:ff9b::/96``, and the local-use ``64:ff9b:1::/48``), 6to4 (``2002::/16``), Teredo
(``2001::/32``, the client address stored inverted), IPv4-compatible (``::a.b.c.d``) and
IPv4-mapped (``::ffff:a.b.c.d``). ``[64:ff9b::a9fe:a9fe]`` is the cloud metadata service
(169.254.169.254) behind a NAT64 gateway, so the embedded address is what gets judged.
Python's ``is_global`` alone is not enough: it calls most of these wrappers global, and its
tables change between Python versions, so the refused ranges are listed here as well.
"""

from __future__ import annotations

import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Local-use NAT64 (RFC 8215): the IPv4 address may sit at any of several offsets, and the
# translator is by definition inside someone's network, so the whole prefix is refused.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")

# Not public, whatever the running Python's tables say (RFC 6890 and its updates).
_REFUSED: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT (shared address space)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
        "::/128",  # unspecified
        "::1/128",  # loopback
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo's own prefix is unwrapped first)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fc00::/7",  # unique local, e.g. the EC2 metadata service fd00:ec2::254
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)


def is_public_address(address: IPAddress) -> bool:
    """True only if ``address``, and every IPv4 address it carries, is globally routable
    unicast: not loopback, private, link-local (metadata), CGNAT, multicast, reserved,
    documentation or unspecified."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return False
        embedded = embedded_ipv4(address)
        if embedded:
            return all(_is_public(inner) for inner in embedded)
    return _is_public(address)


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address reaches through (none for plain IPv6): for Teredo
    both the server and the client, whose address is stored with its bits inverted."""
    if address.ipv4_mapped is not None:
        return (address.ipv4_mapped,)
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address.teredo is not None:
        return address.teredo  # (server, client), the client already un-inverted
    return ()


def _is_public(address: IPAddress) -> bool:
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not any(address in network for network in _REFUSED)
    )


def literal_address(host: str) -> IPAddress | None:
    """The address a URL's host names literally, or None for a name. Besides the usual forms
    this reads what ``getaddrinfo`` would read as an IPv4 number (``2130706433``, ``0x7f.1``,
    ``127.1``), so those are judged as the addresses they are, not as names."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host.lower()):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None
