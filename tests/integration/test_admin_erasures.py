"""The admin's list of erasure requests: status and the law's deadline, nobody's PII."""

from __future__ import annotations

import uuid

from consent_service.models.base import utcnow
from consent_service.properties.lookup import get_property
from consent_service.self_service.access import Access
from consent_service.self_service.access import Via
from tests.integration.preferences_support import erase_now
from tests.integration.test_admin_support import signed_in
from tests.integration.test_notifications_sink import add_customer


def test_each_erasure_request_is_listed_with_its_status_and_deadline(app, session, record):
    email = f"gone-{uuid.uuid4().hex[:8]}@example.com"
    identity = add_customer(app, session, email)
    session.commit()
    access = Access(
        get_property(session, "demo-shop").id, None, identity.id, Via.MAGIC_LINK, utcnow()
    )
    done = erase_now(app, session, access)
    page = signed_in(app, session, "viewer").get("/admin/erasures/").get_data(as_text=True)
    assert f"customer {identity.id}" in page
    assert "completed" in page
    assert done.request.due_at.strftime("%Y-%m-%d") in page
    assert email not in page
