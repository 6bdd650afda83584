"""Getting into the preferences page: visitor links, magic links, notice links, and every
way such a link can be bad."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid

import pytest
import sqlalchemy as sa

from consent_service.models import MagicLink
from consent_service.models import OutboxMessage
from consent_service.properties.lookup import get_property
from consent_service.self_service.access import visitor_link_token
from tests.integration.preferences_support import csrf_of
from tests.integration.preferences_support import sign_in_customer
from tests.integration.preferences_support import sign_in_visitor
from tests.integration.test_notifications_sink import add_customer
from tests.integration.test_notifications_sink import running_sink
from tests.integration.test_notifications_sink import send_due
from tests.support import statements_sent

LINK = re.compile(r"(http\S+/preferences/sign-in\?token=[\w.-]+)")
SIGNED_IN = 'Your privacy choices <span class="sub">'


def ask_for_link(client, email: str):
    # Each test from its own address: the per-IP limit outlives a test's rolled-back data.
    client.environ_base.setdefault("REMOTE_ADDR", f"198.51.100.{uuid.uuid4().int % 250}")
    token = csrf_of(client, "/preferences/?property=demo-shop")
    return client.post(
        "/preferences/link",
        data={"csrf_token": token, "property": "demo-shop", "email": email},
    )


def emailed_link(app, session, email: str) -> str:
    with running_sink() as (sink, port):
        send_due(app, session, port)
    [message] = sink.to(email)
    text = message.get_body(("plain",)).get_content()
    return LINK.search(text).group(1).split("/preferences/", 1)[1]


def link_emailed_to(app, client, session, address: str) -> str:
    """A customer with ``address`` asks for a link; the path of the link the email carries."""
    add_customer(app, session, address)
    session.commit()
    ask_for_link(client, address)
    return emailed_link(app, session, address)


def press_sign_in(client, path: str):
    """Open the emailed link, then press its button (POST), as a person does. A link that
    cannot sign in is refused already on opening, so the POST is sent as a forger would."""
    client.get(f"/preferences/{path}")
    token = path.split("token=", 1)[1]
    csrf = csrf_of(client, "/preferences/?property=demo-shop")
    return client.post("/preferences/sign-in", data={"token": token, "csrf_token": csrf})


@pytest.fixture
def ada() -> str:
    """A fresh address per test: rate-limit counters may outlive the test (Redis)."""
    return f"ada-{uuid.uuid4().hex[:10]}@example.com"


def magic_link_rows(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(MagicLink))


def test_a_visitor_link_signs_the_browser_in_and_drops_the_token_from_the_address(
    app, client, session
):
    response = sign_in_visitor(app, client, get_property(session, "demo-shop").id, uuid.uuid4())
    assert response.status_code == 303
    assert response.headers["Location"] == "/preferences/"
    assert SIGNED_IN in client.get("/preferences/").get_data(as_text=True)


def test_a_tampered_visitor_link_signs_nobody_in(app, client, session):
    token = visitor_link_token("another-secret", 1, uuid.uuid4())
    response = client.get(f"/preferences/visit?token={token}")
    assert response.status_code == 400
    assert "This link is not valid" in response.get_data(as_text=True)
    assert SIGNED_IN not in client.get("/preferences/").get_data(as_text=True)


def test_an_expired_visitor_link_says_so(app, client, session):
    prop = get_property(session, "demo-shop")
    token = visitor_link_token(
        app.extensions["consent_settings"].secret_key,
        prop.id,
        uuid.uuid4(),
        signed_at=dt.datetime.fromtimestamp(1_000_000_000, dt.UTC),
    )
    response = client.get(f"/preferences/visit?token={token}")
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)


def test_a_magic_link_is_emailed_to_a_known_customer_and_signs_them_in(app, client, session, ada):
    add_customer(app, session, ada)
    session.commit()
    assert ask_for_link(client, ada.upper()).status_code == 200
    path = emailed_link(app, session, ada)
    response = press_sign_in(client, path)
    assert response.status_code == 303
    assert "Signed in as a…@example.com" in client.get("/preferences/").get_data(as_text=True)


def test_an_opened_link_that_cannot_sign_in_says_so_before_the_button(app, client, session, ada):
    path = link_emailed_to(app, client, session, ada)
    press_sign_in(client, path)
    page = client.get(f"/preferences/{path}")
    assert page.status_code == 410
    assert "already used" in page.get_data(as_text=True)


def test_opening_a_magic_link_does_not_use_it_up(app, client, session, ada):
    """Mail scanners open links: only the button press (a POST) claims it."""
    path = link_emailed_to(app, client, session, ada)
    assert client.get(f"/preferences/{path}").status_code == 200
    assert session.scalar(sa.select(MagicLink.used_at)) is None


def test_a_magic_link_works_only_once(app, client, session, ada):
    path = link_emailed_to(app, client, session, ada)
    press_sign_in(client, path)
    other = app.test_client()
    response = press_sign_in(other, path)
    assert response.status_code == 410
    assert "already used" in response.get_data(as_text=True)


def test_an_expired_magic_link_is_refused(app, client, session, ada):
    path = link_emailed_to(app, client, session, ada)
    session.execute(sa.update(MagicLink).values(expires_at=MagicLink.created_at))
    session.commit()
    response = press_sign_in(client, path)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


def test_a_tampered_magic_link_is_refused(app, client, session, ada):
    path = link_emailed_to(app, client, session, ada)
    response = press_sign_in(client, path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert response.status_code == 400
    assert SIGNED_IN not in client.get("/preferences/").get_data(as_text=True)


def test_an_unknown_email_gets_the_same_answer_and_nothing_is_sent(app, client, session, ada):
    add_customer(app, session, ada)
    session.commit()
    eve = f"eve-{uuid.uuid4().hex[:10]}@example.com"
    known = ask_for_link(client, ada).get_data(as_text=True).replace(ada, "X")
    unknown = ask_for_link(client, eve).get_data(as_text=True).replace(eve, "X")
    assert known.split('name="csrf_token"')[0] == unknown.split('name="csrf_token"')[0]
    assert magic_link_rows(session) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


def statements_of(session, request) -> list[str]:
    """The SQL statements ``request()`` makes, by their first word."""
    with statements_sent(session.get_bind().engine) as sent:
        request()
    return [statement.split(None, 1)[0].upper() for statement in sent]


def test_an_unknown_email_costs_the_same_statements_and_a_write(app, client, session, ada):
    """No timing oracle: an unknown address makes as many statements, writes as much, and
    leaves nothing behind (the figures are in the closing note, measured by
    tests/bench/magic_link_timing.py)."""
    add_customer(app, session, ada)
    session.commit()
    eve = f"eve-{uuid.uuid4().hex[:10]}@example.com"
    ask_for_link(client, eve)  # the form's cookie and the rate limiter warmed up alike
    known = statements_of(session, lambda: ask_for_link(client, ada))
    unknown = statements_of(session, lambda: ask_for_link(client, eve))
    writes = {"INSERT", "UPDATE", "DELETE"}
    assert len(known) == len(unknown)
    assert sum(s in writes for s in known) == sum(s in writes for s in unknown) == 2
    assert magic_link_rows(session) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


def test_a_request_without_the_form_token_is_refused(app, client, session, ada):
    add_customer(app, session, ada)
    session.commit()
    response = client.post("/preferences/link", data={"property": "demo-shop", "email": ada})
    assert response.status_code == 400
    assert magic_link_rows(session) == 0


def test_a_malformed_email_is_explained(app, client, session):
    response = ask_for_link(client, "not-an-address")
    assert response.status_code == 422
    assert "That is not an email address." in response.get_data(as_text=True)


def _limits(app, monkeypatch, **limits: str) -> None:
    settings = app.extensions["consent_settings"]
    monkeypatch.setitem(app.extensions, "consent_settings", dataclasses.replace(settings, **limits))


def test_a_flood_of_link_requests_for_one_address_is_limited(app, client, session, monkeypatch):
    _limits(app, monkeypatch, magic_link_rate_limit_address="2/hour")
    address = f"{uuid.uuid4().hex}@example.com"
    assert [ask_for_link(client, address).status_code for _ in range(3)] == [200, 200, 429]


def test_a_flood_of_link_requests_from_one_address_is_limited(app, client, session, monkeypatch):
    _limits(app, monkeypatch, magic_link_rate_limit_ip="2/hour")
    client.environ_base["REMOTE_ADDR"] = f"203.0.113.{uuid.uuid4().int % 250}"
    codes = [ask_for_link(client, f"{uuid.uuid4().hex}@example.com").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_the_link_in_a_policy_notice_signs_the_customer_in(app, client, session, ada):
    identity = add_customer(app, session, ada)
    session.commit()
    assert sign_in_customer(app, client, identity.id).status_code == 303
    assert "Signed in as a…@example.com" in client.get("/preferences/").get_data(as_text=True)


def test_a_forged_session_cookie_shows_the_sign_in_form(app, client, session):
    client.set_cookie("consent_preferences", "forged.cookie.value", path="/preferences")
    page = client.get("/preferences/?property=demo-shop").get_data(as_text=True)
    assert "Sign in with your email" in page


@pytest.mark.parametrize("lang, words", [("de", "Ihre Datenschutz"), ("fr", "Vos choix")])
def test_the_page_speaks_the_visitors_language(app, client, session, lang, words):
    page = client.get("/preferences/?property=demo-shop", headers={"Accept-Language": lang})
    assert f'lang="{lang}"' in page.get_data(as_text=True)
    assert words in page.get_data(as_text=True)
