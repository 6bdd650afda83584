"""A property's ``config_version``: the counter every per-process cache (banners, look-up
contexts) compares, so that any change to what a property offers is seen everywhere."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.models import Property


def bump_config_version(session: Session, property_id: int) -> None:
    """Tell every banner cache that this property's banner changed (see ``banner.cache``)."""
    session.execute(
        sa.update(Property)
        .where(Property.id == property_id)
        .values(config_version=Property.config_version + 1)
    )


def config_version_of(session: Session, property_key: str) -> int | None:
    """The property's ``config_version`` as the database has it now (None: no such property)."""
    return session.scalar(sa.select(Property.config_version).where(Property.key == property_key))
