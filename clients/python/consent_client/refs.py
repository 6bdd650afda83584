"""Subject references (``customer:<ref>``, ``visitor:<uuid>``, ``subject:<uuid>``,
``email:<address>``), checked before they leave the process.

Emails must never travel in a URL (URLs end up in access logs), so the client needs to know
which references are emails in order to send those in a request body instead.
"""

from __future__ import annotations

import unicodedata
import uuid

KINDS = ("customer", "visitor", "subject", "email")
_UUID_KINDS = frozenset({"visitor", "subject"})


class InvalidReference(ValueError):
    """Not a subject reference or purpose key the service understands."""


def check_subject(ref: object) -> str:
    """``ref`` itself when it reads like a subject reference, else InvalidReference."""
    if not isinstance(ref, str):
        raise InvalidReference(f"a subject reference is a string, not {type(ref).__name__}")
    kind, sep, value = ref.partition(":")
    if not sep or kind not in KINDS or not value.strip():
        raise InvalidReference(
            f"{ref!r} is not a subject reference; write customer:<ref>, visitor:<uuid>, "
            "subject:<uuid> or email:<address>"
        )
    if kind in _UUID_KINDS:
        try:
            uuid.UUID(value)
        except ValueError:
            raise InvalidReference(f"{ref!r}: a {kind} reference takes a UUID") from None
    return ref


def same_subject(sent: str, echoed: object) -> bool:
    """Whether the service's echo names the reference that was sent. The service echoes its
    canonical spelling (lower-case UUIDs, trimmed lower-case emails), not the bytes sent."""
    return isinstance(echoed, str) and _canonical(sent) == _canonical(echoed)


def _canonical(ref: str) -> str:
    kind, _, value = ref.partition(":")
    if kind in _UUID_KINDS:
        try:
            return f"{kind}:{uuid.UUID(value)}"
        except ValueError:
            return ref
    if kind == "email":
        return f"email:{unicodedata.normalize('NFC', value.strip()).lower()}"
    return ref


def is_email(ref: str) -> bool:
    return ref.startswith("email:")


def check_purpose(key: object) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidReference(f"a purpose is a non-empty string such as 'marketing', not {key!r}")
    return key
