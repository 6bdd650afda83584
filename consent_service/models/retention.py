"""What the retention job records for the database's own guards."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from consent_service.models.base import Base
from consent_service.models.base import UTCDateTime


class RetentionCutoff(Base):
    """The last cutoff the retention job applied to an append-only table (``audit_log``).

    The audit log's trigger lets a row be deleted only while this row is ``armed`` and the
    entry is older than ``cutoff``; the job arms it, deletes and disarms it in one transaction,
    so no other transaction ever sees it armed.
    """

    __tablename__ = "retention_cutoffs"

    kind: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    cutoff: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    armed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    applied_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
