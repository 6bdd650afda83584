"""The self-service preferences page as people use it: signing in by emailed link, withdrawing
consent so the shop's tags stop, downloading a receipt and checking its signature, erasure,
and axe-core on each of its pages."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.browser.admin_support import no_violations
from tests.browser.preferences_support import SIGN_IN
from tests.browser.preferences_support import confirm_by_email
from tests.browser.preferences_support import customer_row
from tests.browser.preferences_support import emailed_sign_in_link
from tests.browser.preferences_support import follow_sign_in_link
from tests.browser.preferences_support import new_customer
from tests.browser.preferences_support import open_as_customer
from tests.browser.preferences_support import open_as_visitor
from tests.browser.preferences_support import request_sign_in_link

pytestmark = pytest.mark.browser

MANAGE = "Manage all choices, receipts and your data"
TITLE = "Your privacy choices"
USED = "This link was already used. Each sign-in link works once; ask for a new one below."


def b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def signed_in_heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def test_an_emailed_sign_in_link_signs_the_customer_in(shop, live_server):
    _, email, _ = new_customer(live_server)
    visitor = shop()
    request_sign_in_link(visitor.page, live_server, email)
    link = emailed_sign_in_link(live_server, email)

    follow_sign_in_link(visitor.page, live_server, link)
    assert signed_in_heading(visitor.page).startswith(TITLE)
    name, _, domain = email.partition("@")
    assert visitor.page.locator(".who").inner_text() == f"Signed in as {name[0]}…@{domain}."
    assert visitor.page.get_by_role("button", name="Sign out").is_visible()
    assert visitor.page.get_by_role("heading", name="Emails from us").is_visible()


def test_an_emailed_sign_in_link_works_only_once(shop, live_server):
    _, email, _ = new_customer(live_server)
    laptop = shop()
    request_sign_in_link(laptop.page, live_server, email)
    link = emailed_sign_in_link(live_server, email)
    phone = shop(expect_errors=True)  # each refusal is a 410, which the console reports
    phone.page.goto(link)  # opened on both: neither uses the link up
    follow_sign_in_link(laptop.page, live_server, link)

    phone.page.get_by_role("button", name=SIGN_IN).click()
    assert phone.page.get_by_role("alert").inner_text() == USED
    assert phone.page.get_by_role("button", name="Sign out").count() == 0

    phone.page.goto(link)  # opening it again says so before any button
    assert phone.page.get_by_role("alert").inner_text() == USED
    assert phone.page.get_by_role("button", name=SIGN_IN).count() == 0
    assert phone.problems and all("status of 410" in problem for problem in phone.problems)


def test_withdrawing_all_consent_on_the_page_stops_the_shops_tags(shop, live_server):
    visitor = shop()
    visitor.visit("?region=FR")
    visitor.choose_and_wait("Accept all")
    visitor.page.wait_for_selector("html[data-ran-analytics][data-ran-ads]")

    visitor.reopen_preferences()
    visitor.preferences.get_by_role("link", name=MANAGE).click()
    visitor.page.wait_for_url(f"{live_server.url}/preferences/")
    assert visitor.page.get_by_role("switch", name="Analytics").is_checked()
    visitor.page.get_by_role("button", name="Withdraw all consent").click()
    notice = visitor.page.locator(".notice")  # the answer's, success or error: says which
    notice.wait_for()
    assert notice.inner_text().startswith("All consent is withdrawn. Receipt ")
    assert not visitor.page.get_by_role("switch", name="Analytics").is_checked()

    visitor.visit("?region=FR")  # a new page load of the shop
    assert visitor.page.evaluate("window.consent.get()")["analytics"] is False
    assert not visitor.ran("analytics") and not visitor.ran("ads")
    assert visitor.banner.count() == 0  # a withdrawal is an answer: not asked again


def test_a_downloaded_receipt_verifies_against_the_published_keys(shop, live_server, tmp_path):
    visitor = shop()
    visitor.visit("?region=FR")
    granted = visitor.choose_and_wait("Accept all")
    open_as_visitor(visitor.page, live_server, granted["visitor_id"])

    row = visitor.page.locator(f'tr[data-receipt="{granted["receipt_id"]}"]')
    with visitor.page.expect_download() as info:
        row.get_by_role("link", name="JWS").click()
    download = info.value
    assert download.suggested_filename == f"receipt-{granted['receipt_id']}.jws"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    jws = Path(saved).read_text("ascii").strip()

    header_b64, payload_b64, signature_b64 = jws.split(".")
    header = json.loads(b64url(header_b64))
    assert header["alg"] == "Ed25519"
    jwks = visitor.page.request.get(f"{live_server.url}/.well-known/jwks.json").json()
    (jwk,) = [key for key in jwks["keys"] if key["kid"] == header["kid"]]
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    public_key = Ed25519PublicKey.from_public_bytes(b64url(jwk["x"]))
    public_key.verify(b64url(signature_b64), f"{header_b64}.{payload_b64}".encode("ascii"))
    assert json.loads(b64url(payload_b64)) == granted  # the receipt the widget was given

    visitor.page.get_by_role("button", name="Check the signatures in this browser").click()
    visitor.page.wait_for_selector(".verify[data-outcome]")
    assert visitor.page.locator(".verify").get_attribute("data-outcome") == "ok"
    assert visitor.page.locator(".verify-result").inner_text() == (
        "All 1 signatures check out against the published keys."
    )


def erase_my_data(page) -> None:
    page.get_by_label("I understand that this cannot be undone.").check()
    page.get_by_role("button", name="Erase my data").click()
    page.get_by_role("heading", level=1, name="Your data is erased").wait_for()


def test_erasing_my_data_forgets_the_customer_and_signs_them_out(shop, live_server):
    identity_id, email, _ = new_customer(live_server)
    visitor = shop()
    open_as_customer(visitor.page, live_server, identity_id)  # from a policy-change email
    assert visitor.page.get_by_role("button", name="Erase my data").count() == 0
    confirm_by_email(visitor.page, live_server, email)
    erase_my_data(visitor.page)

    row = customer_row(live_server, identity_id)
    assert row.erased_at is not None
    assert row.email_ciphertext is None and row.email_index is None
    assert row.customer_ref is None
    assert row.customer_ref_ciphertext is None and row.customer_ref_index is None

    visitor.page.goto(f"{live_server.url}/preferences/?property=demo-shop")
    assert visitor.page.get_by_role("heading", name="Sign in with your email").is_visible()
    assert visitor.page.get_by_role("button", name="Sign out").count() == 0
    assert "consent_preferences" not in {c["name"] for c in visitor.page.context.cookies()}


def test_the_erased_page_downloads_a_signed_statement_of_the_erasure(shop, live_server, tmp_path):
    identity_id, email, _ = new_customer(live_server)
    visitor = shop()
    open_as_customer(visitor.page, live_server, identity_id)
    confirm_by_email(visitor.page, live_server, email)
    erase_my_data(visitor.page)

    link = visitor.page.get_by_role("link", name="Download the signed statement of this erasure")
    with visitor.page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.startswith("erasure-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    header_b64, payload_b64, signature_b64 = saved.read_text("ascii").strip().split(".")
    header = json.loads(b64url(header_b64))
    assert (header["alg"], header["typ"]) == ("Ed25519", "erasure-statement+jws")
    jwks = visitor.page.request.get(f"{live_server.url}/.well-known/jwks.json").json()
    (jwk,) = [key for key in jwks["keys"] if key["kid"] == header["kid"]]
    public_key = Ed25519PublicKey.from_public_bytes(b64url(jwk["x"]))
    public_key.verify(b64url(signature_b64), f"{header_b64}.{payload_b64}".encode("ascii"))
    statement = json.loads(b64url(payload_b64))
    assert download.suggested_filename == f"erasure-{statement['erasure_request_id']}.jws"
    assert statement["subject_kind"] == "customer"
    assert statement["erased"]["identity_pii_wiped"] == 1
    assert statement["erased"]["person_keys_shredded"] == 1
    assert email not in json.dumps(statement) and str(identity_id) not in json.dumps(statement)


def test_axe_finds_no_violation_on_the_sign_in_page(shop, live_server):
    visitor = shop(expect_errors=True)  # the form's refusal is a 422, which the console reports
    visitor.page.goto(f"{live_server.url}/preferences/?property=demo-shop")
    no_violations(visitor.page)
    visitor.page.get_by_role("button", name="Email me a sign-in link").click()  # no address
    visitor.page.locator("#email-error").wait_for()
    no_violations(visitor.page)
    assert visitor.problems and all("status of 422" in problem for problem in visitor.problems)


def test_axe_finds_no_violation_on_the_signed_in_page(shop, live_server):
    identity_id, email, customer_ref = new_customer(live_server)
    visitor = shop()
    visitor.visit(f"?region=FR&customer={customer_ref}")
    visitor.choose_and_wait("Accept all")
    visitor.page.wait_for_function(
        "() => localStorage.getItem('consent_identified_demo-shop') !== null"
    )
    visitor.reopen_preferences()
    visitor.choose_and_wait("Reject all")
    open_as_customer(visitor.page, live_server, identity_id)
    no_violations(visitor.page)  # as a notice link's session: asked to confirm by email

    confirm_by_email(visitor.page, live_server, email)  # everything: export and erasure too
    assert visitor.page.locator("tr[data-receipt]").count() == 2
    assert visitor.page.get_by_role("heading", name="Emails from us").is_visible()
    assert visitor.page.get_by_role("button", name="Erase my data").is_visible()
    visitor.page.locator("details").evaluate_all("(all) => all.forEach((d) => { d.open = true; })")
    visitor.page.get_by_role("button", name="Check the signatures in this browser").click()
    visitor.page.wait_for_selector(".verify[data-outcome='ok']")
    no_violations(visitor.page)


def test_axe_finds_no_violation_on_the_erased_page(shop, live_server):
    identity_id, email, _ = new_customer(live_server)
    visitor = shop()
    open_as_customer(visitor.page, live_server, identity_id)
    confirm_by_email(visitor.page, live_server, email)
    erase_my_data(visitor.page)
    no_violations(visitor.page)


def test_the_language_switcher_keeps_the_page_and_its_language_through_a_save(
    shop, live_server, tmp_path
):
    visitor = shop()
    visitor.visit("?region=FR")
    granted = visitor.choose_and_wait("Accept all")
    open_as_visitor(visitor.page, live_server, granted["visitor_id"])
    visitor.page.get_by_role("link", name="Deutsch").click()
    assert visitor.page.locator("html").get_attribute("lang") == "de"
    visitor.page.get_by_role("button", name="Meine Auswahl speichern").click()
    visitor.page.wait_for_load_state()
    visitor.page.screenshot(path=str(tmp_path / "preferences-de-after-save.png"), full_page=True)
    assert visitor.page.locator("html").get_attribute("lang") == "de"
    assert "lang=de" in visitor.page.url
