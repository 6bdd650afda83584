"""Declarative base, naming convention and column types shared by every model."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Timezone-aware UTC on every engine (SQLite keeps no zone, so we store naive UTC)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> object:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: object, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC)


def table_of(model: type[Base]) -> sa.Table:
    """A model's Table, typed as one (``__table__`` is typed as any FromClause)."""
    table = model.__table__
    assert isinstance(table, sa.Table)
    return table


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): random, yet time-ordered so inserts stay at the index's end."""
    millis = time.time_ns() // 1_000_000
    raw = bytearray(millis.to_bytes(6, "big") + _random_bytes(10))
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return uuid.UUID(bytes=bytes(raw))


_random = threading.local()
_RANDOM_CHUNK = 4096


def _random_bytes(count: int) -> bytes:
    """``count`` bytes from the kernel's randomness, read a few kilobytes at a time per
    thread: the same bytes ``os.urandom`` gives, without a system call for every id."""
    start: int = getattr(_random, "start", _RANDOM_CHUNK)
    if start + count > _RANDOM_CHUNK or getattr(_random, "pid", None) != os.getpid():
        _random.buffer, _random.pid, start = os.urandom(_RANDOM_CHUNK), os.getpid(), 0
    _random.start = start + count
    buffer: bytes = _random.buffer
    return buffer[start : start + count]
