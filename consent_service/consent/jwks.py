"""Which public keys are published: every key that ever signed, plus the configured ones."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.infra.signing import SigningKey
from consent_service.models import SigningKeyRecord


def published_keys(session: Session, configured: Iterable[SigningKey]) -> dict[str, str]:
    """``{kid: x}``: keys that signed receipts stay published after rotating out of config."""
    keys = {key.kid: key.public_x for key in configured}
    for record in session.scalars(
        sa.select(SigningKeyRecord).order_by(SigningKeyRecord.created_at)
    ):
        keys.setdefault(record.kid, record.public_x)
    return keys
