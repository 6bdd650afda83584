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
