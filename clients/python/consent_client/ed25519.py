"""Ed25519 signature verification in pure Python (RFC 8032 §5.1), for installs without
``cryptography``: the standard library's integers and SHA-512 are all it needs.

Verification only. It handles public data alone (keys, signatures, messages), so the timing
differences of plain integer arithmetic reveal nothing secret; nothing here ever signs.

Points are kept in extended homogeneous coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z and
x*y = T/Z (RFC 8032 §5.1.4), which makes addition and doubling free of inversions. The check
is ``[S]B = R + [k]A`` (§5.1.7 step 3 allows it in place of the cofactored equation), done as
``encode([S]B + [k](-A)) == R`` so that it accepts exactly what OpenSSL's verifier accepts: the
optional ``cryptography`` path and this one never disagree.
"""

from __future__ import annotations

import hashlib

# Curve edwards25519 (RFC 8032 §5.1): the field's prime, the group order, and d.
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
_SQRT_M1 = pow(2, (P - 1) // 4, P)  # a square root of -1 mod p

Point = tuple[int, int, int, int]
_IDENTITY: Point = (0, 1, 1, 0)
_WINDOW = 4  # bits per step of the scalar multiplication
_D2 = 2 * D % P


def _add(p: Point, q: Point) -> Point:
    """p + q (RFC 8032 §5.1.4, the unified formula: valid for doubling and the identity)."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = t1 * _D2 * t2 % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _double(p: Point) -> Point:
    """2p, cheaper than ``_add(p, p)`` (RFC 8032 §5.1.4, doubling)."""
    x1, y1, z1, _ = p
    a = x1 * x1 % P
    b = y1 * y1 % P
    c = 2 * z1 * z1 % P
    h = a + b
    e = h - (x1 + y1) * (x1 + y1)
    g = a - b
    f = c + g
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _negate(p: Point) -> Point:
    x, y, z, t = p
    return (-x % P, y, z, -t % P)


def _multiples(p: Point) -> list[Point]:
    """0p, 1p, ... (2**_WINDOW - 1)p: the table of one window."""
    table = [_IDENTITY, p]
    while len(table) < 1 << _WINDOW:
        table.append(_add(table[-1], p))
    return table


def decode_point(data: bytes) -> Point | None:
    """The point a 32-byte encoding names, or None when it names none (RFC 8032 §5.1.3)."""
    if len(data) != 32:
        return None
    number = int.from_bytes(data, "little")
    x_sign = number >> 255
    y = number & ((1 << 255) - 1)
    if y >= P:
        return None
    # x**2 = (y**2 - 1) / (d y**2 + 1): one candidate root by exponentiation, then fix it up.
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    vxx = v * x * x % P
    if vxx == (-u) % P:
        x = x * _SQRT_M1 % P
    elif vxx != u:
        return None  # no square root: not on the curve
    if x == 0 and x_sign:
        return None
    if x & 1 != x_sign:
        x = P - x
    return (x, y, 1, x * y % P)


def encode_point(point: Point) -> bytes:
    """The 32-byte encoding: y, with x's lowest bit as the top bit (RFC 8032 §5.1.2)."""
    x, y, z, _ = point
    z_inverse = pow(z, P - 2, P)
    x, y = x * z_inverse % P, y * z_inverse % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


_B = decode_point((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))  # y = 4/5, x even
assert _B is not None
_B_MULTIPLES = _multiples(_B)


class PublicKey:
    """An Ed25519 public key, decoded once (keys are few and verify many signatures)."""

    def __init__(self, raw: bytes) -> None:
        point = decode_point(raw)
        if point is None:
            raise ValueError("not an Ed25519 public key (32 bytes naming a curve point)")
        self.raw = bytes(raw)
        # [k](-A) is what the check adds, so the table holds multiples of -A.
        self._minus_a_multiples = _multiples(_negate(point))

    def verify(self, signature: bytes, message: bytes) -> bool:
        """Whether ``signature`` is this key's over ``message`` (RFC 8032 §5.1.7)."""
        if len(signature) != 64:
            return False
        r, s = signature[:32], int.from_bytes(signature[32:], "little")
        if s >= L:
            return False  # S out of range: a malleated signature
        k = int.from_bytes(hashlib.sha512(r + self.raw + message).digest(), "little") % L
        return encode_point(self._sum(s, k)) == r

    def _sum(self, s: int, k: int) -> Point:
        """[s]B + [k](-A), both at once: one run of doublings, window by window (Straus)."""
        mask = (1 << _WINDOW) - 1
        total = _IDENTITY
        for shift in range(252, -1, -_WINDOW):  # s, k < 2**253
            for _ in range(_WINDOW):
                total = _double(total)
            s_digit, k_digit = (s >> shift) & mask, (k >> shift) & mask
            if s_digit:
                total = _add(total, _B_MULTIPLES[s_digit])
            if k_digit:
                total = _add(total, self._minus_a_multiples[k_digit])
        return total


def verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature over ``message``; False for
    a key or signature that is malformed."""
    try:
        key = PublicKey(public_key)
    except ValueError:
        return False
    return key.verify(signature, message)
