"""The property a per-property admin page shows: the one its ``property`` parameter names, or
the first by key; a name that is no property's is a 404."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask import request

from consent_service.extensions import current_session
from consent_service.models import Property


def chosen_property() -> Property:
    session = current_session()
    key = request.values.get("property")
    query = sa.select(Property).order_by(Property.key)
    prop = session.scalar(query.where(Property.key == key) if key else query.limit(1))
    if prop is None:
        abort(404)
    return prop
