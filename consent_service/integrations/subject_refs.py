"""How a shop backend names a person: ``visitor:<uuid>`` (one browser), ``customer:<ref>`` or
``email:<address>`` (a known customer, across every linked browser), or ``subject:<uuid>``
(the id receipts carry). Parsed once, with a JSON Pointer for each bad one."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence

from consent_service.errors import FieldError
from consent_service.errors import ValidationFailed
from consent_service.infra.pii import is_plausible_email
from consent_service.infra.pii import normalise_email
from consent_service.integrations.identity import valid_customer_ref

KINDS = ("visitor", "customer", "email", "subject")
UUID_KINDS = ("visitor", "subject", "identity")
# ``identity:`` (a customer by their row id) is for the service's own pages; the API's
# references are the four KINDS above.


@dataclasses.dataclass(frozen=True)
class SubjectRef:
    kind: str
    value: str  # normalised: a canonical UUID string, the customer ref, the normalised email


def parse_subject_ref(text: str, pointer: str) -> SubjectRef:
    kind, _, value = text.partition(":")
    problem = None
    if kind in ("visitor", "subject"):
        try:
            value = str(uuid.UUID(value))
        except ValueError:
            problem = f"{kind}: must be followed by a UUID"
    elif kind == "customer":
        if not valid_customer_ref(value):
            problem = "customer: must be followed by 1 to 200 printable characters"
    elif kind == "email":
        value = normalise_email(value)
        if not is_plausible_email(value):
            problem = "email: must be followed by an email address"
    else:
        problem = "must start with visitor:, customer:, email: or subject:"
    if problem:
        raise ValidationFailed(
            f"{pointer or 'subject'}: {problem}", errors=[FieldError(pointer, problem)]
        )
    return SubjectRef(kind, value)


def parse_subject_refs(texts: Sequence[str], pointer: str) -> list[SubjectRef]:
    """Every reference, or one ValidationFailed listing each bad one (first 100)."""
    refs: list[SubjectRef] = []
    errors: list[FieldError] = []
    for i, text in enumerate(texts):
        try:
            refs.append(parse_subject_ref(text, f"{pointer}/{i}"))
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(
            f"{len(errors)} subject reference(s) are not valid", errors=errors[:100]
        )
    return refs
