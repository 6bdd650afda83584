"""Look-ups of a property and what it offers."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.errors import UnknownProperty
from consent_service.models import Property
from consent_service.models import Purpose


def get_property(session: Session, key: str) -> Property:
    prop = session.scalar(sa.select(Property).where(Property.key == key))
    if prop is None:
        raise UnknownProperty(f"there is no property {key!r}")
    return prop


def purposes_of(session: Session, property_id: int) -> list[Purpose]:
    """The purposes a property offers, in banner order."""
    query = sa.select(Purpose).where(Purpose.property_id == property_id).order_by(Purpose.position)
    return list(session.scalars(query))
