"""Proving the receipt log is intact: every signature, every chain link, every mirror column."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.infra.signing import InvalidReceiptSignature
from consent_service.infra.signing import jws_sha256
from consent_service.infra.signing import verify_jws
from consent_service.models import ConsentReceipt
from consent_service.models import PolicyVersion
from consent_service.models import SigningKeyRecord


@dataclasses.dataclass(frozen=True)
class Break:
    receipt_id: uuid.UUID
    subject_id: uuid.UUID
    seq: int
    problem: str


@dataclasses.dataclass
class VerificationReport:
    receipts: int = 0
    subjects: int = 0
    breaks: list[Break] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify_receipts(
    session: Session, *, subject_id: uuid.UUID | None = None, batch_size: int = 1000
) -> VerificationReport:
    """Check each receipt's signature against the published keys, its chain link to the
    subject's previous receipt, and that the stored row says what the signed payload says."""
    keys = {k.kid: k.public_x for k in session.scalars(sa.select(SigningKeyRecord))}
    report = VerificationReport()
    previous: ConsentReceipt | None = None
    for receipt, number in _receipts(session, subject_id, batch_size):
        report.receipts += 1
        if previous is None or previous.subject_id != receipt.subject_id:
            report.subjects += 1
            previous = None
        for problem in _problems(receipt, number, previous, keys):
            report.breaks.append(Break(receipt.id, receipt.subject_id, receipt.seq, problem))
        previous = receipt
    return report


def _receipts(
    session: Session, subject_id: uuid.UUID | None, batch_size: int
) -> Iterator[tuple[ConsentReceipt, int]]:
    query = (
        sa.select(ConsentReceipt, PolicyVersion.number)
        .join(PolicyVersion, PolicyVersion.id == ConsentReceipt.policy_version_id)
        .order_by(ConsentReceipt.subject_id, ConsentReceipt.seq)
        .execution_options(yield_per=batch_size)
    )
    if subject_id is not None:
        query = query.where(ConsentReceipt.subject_id == subject_id)
    for receipt, number in session.execute(query):
        yield receipt, int(number or 0)


def _problems(
    receipt: ConsentReceipt, number: int, previous: ConsentReceipt | None, keys: dict[str, str]
) -> Iterator[str]:
    try:
        payload = verify_jws(receipt.jws, keys)
    except InvalidReceiptSignature as exc:
        yield f"signature: {exc}"
        return
    if jws_sha256(receipt.jws) != receipt.jws_sha256:
        yield "stored jws_sha256 does not match the JWS"
    expected_seq = previous.seq + 1 if previous else 1
    if receipt.seq != expected_seq:
        yield f"chain: expected seq {expected_seq}, found {receipt.seq} (a receipt is missing)"
    expected_prev = previous.jws_sha256 if previous else None
    if payload.get("prev") != expected_prev or receipt.prev_hash != expected_prev:
        yield "chain: prev does not match the previous receipt's hash"
    policy = payload.get("policy")
    mirrors = {
        "receipt_id": (payload.get("receipt_id"), str(receipt.id)),
        "subject": (payload.get("subject"), str(receipt.subject_id)),
        "seq": (payload.get("seq"), receipt.seq),
        "decisions": (payload.get("decisions"), receipt.decisions),
        "method": (payload.get("method"), receipt.method),
        "gpc": (payload.get("gpc"), receipt.gpc),
        "policy.sha256": (isinstance(policy, dict) and policy.get("sha256"), receipt.policy_sha256),
        "policy.version": (isinstance(policy, dict) and policy.get("version"), number),
    }
    for name, (signed, stored) in mirrors.items():
        if signed != stored:
            yield f"row differs from the signed payload in {name}"
