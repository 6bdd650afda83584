"""How a shop backend names a person: ``visitor:<uuid>`` (one browser), ``customer:<ref>`` or
``email:<address>`` (a known customer, across every linked browser), or ``subject:<uuid>``
(the id receipts carry). Parsed once, with a JSON Pointer for each bad one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import NamedTuple

from consent_service.errors import FieldError
from consent_service.errors import ValidationFailed
from consent_service.infra.pii import is_plausible_email
from consent_service.infra.pii import normalise_email
from consent_service.integrations.identity import valid_customer_ref

KINDS = ("visitor", "customer", "email", "subject")
UUID_KINDS = ("visitor", "subject", "identity")
# ``identity:`` (a customer by their row id) is for the service's own pages; the API's
# references are the four KINDS above.


class SubjectRef(NamedTuple):
    """A NamedTuple, not a frozen dataclass: a bulk look-up parses 10,000, and a frozen
    dataclass's ``__init__`` costs several times a tuple's."""

    kind: str
    value: str  # normalised: a canonical UUID string, the customer ref, the normalised email


def parse_subject_ref(text: str, pointer: str) -> SubjectRef:
    ref = _parsed(text)
    if isinstance(ref, str):
        raise ValidationFailed(f"{pointer or 'subject'}: {ref}", errors=[FieldError(pointer, ref)])
    return ref


def parse_subject_refs(texts: Sequence[str], pointer: str) -> list[SubjectRef]:
    """Every reference, or one ValidationFailed listing each bad one (first 100)."""
    refs: list[SubjectRef] = []
    errors: list[FieldError] = []
    for i, text in enumerate(texts):
        ref = _parsed(text)
        if isinstance(ref, str):  # each pointer written only for a bad one: 10,000 good ones
            errors.append(FieldError(f"{pointer}/{i}", ref))
        else:
            refs.append(ref)
    if errors:
        raise ValidationFailed(
            f"{len(errors)} subject reference(s) are not valid", errors=errors[:100]
        )
    return refs


def _parsed(text: str) -> SubjectRef | str:
    """The reference, or what is wrong with it."""
    kind, _, value = text.partition(":")
    if kind in ("visitor", "subject"):
        try:
            return SubjectRef(kind, str(uuid.UUID(value)))
        except ValueError:
            return f"{kind}: must be followed by a UUID"
    if kind == "customer":
        if not valid_customer_ref(value):
            return "customer: must be followed by 1 to 200 printable characters"
        return SubjectRef(kind, value)
    if kind == "email":
        value = normalise_email(value)
        if not is_plausible_email(value):
            return "email: must be followed by an email address"
        return SubjectRef(kind, value)
    return "must start with visitor:, customer:, email: or subject:"
