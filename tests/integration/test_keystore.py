"""Crypto-shredding: each person's data sealed with their own key, kept outside the main
database; erasure deletes the key, and every earlier copy of the ciphertexts stays sealed."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from consent_service.app import check_master_keys
from consent_service.errors import KeyStoreUnavailable
from consent_service.infra.keystore import KeyStore
from consent_service.infra.pii import CUSTOMER
from consent_service.infra.pii import EMAIL
from consent_service.infra.pii import Cipher
from consent_service.infra.pii import DataKey
from consent_service.infra.pii import Vault
from consent_service.integrations.identity import Claims
from consent_service.integrations.identity import convert_identities
from consent_service.integrations.identity import customer_ref_of
from consent_service.integrations.identity import email_of
from consent_service.integrations.identity import forget_identity
from consent_service.integrations.identity import link_identity
from consent_service.models import Identity
from consent_service.models.base import new_id
from consent_service.models.base import utcnow
from consent_service.properties.lookup import get_property
from consent_service.settings import SettingsError

OLD = DataKey("dk-old", b"o" * 32)
NEW = DataKey("dk-new", b"n" * 32)


@pytest.fixture
def vault(app) -> Vault:
    return app.extensions["vault"]


@pytest.fixture
def shop(session) -> int:
    return get_property(session, "demo-shop").id


def linked(session, vault, shop, ref, email) -> Identity:
    link = link_identity(session, vault, shop, Claims(ref, email), visitor_id=uuid.uuid4())
    identity = session.get(Identity, link.identity_id)
    assert identity is not None
    return identity


def test_a_persons_email_and_reference_open_with_their_own_key(session, vault, shop):
    identity = linked(session, vault, shop, "c-ks-1", "ada@example.com")
    assert identity.customer_ref is None  # never written in plain text
    assert b"ada" not in identity.email_ciphertext
    assert customer_ref_of(vault, identity) == "c-ks-1"
    assert email_of(vault, identity) == "ada@example.com"


def test_two_people_never_share_a_key(session, vault, shop):
    ada = linked(session, vault, shop, "c-ks-2", "ada2@example.com")
    bob = linked(session, vault, shop, "c-ks-3", "bob3@example.com")
    keys = vault.people.keys_of([ada.id, bob.id])
    assert keys[ada.id] != keys[bob.id]
    assert all(len(key) == 32 for key in keys.values())


def test_a_ciphertext_moved_to_another_person_does_not_open(session, vault, shop):
    ada = linked(session, vault, shop, "c-ks-4", "ada4@example.com")
    bob = linked(session, vault, shop, "c-ks-5", "bob5@example.com")
    bob.email_ciphertext = ada.email_ciphertext
    with pytest.raises(Exception, match="does not open"):
        email_of(vault, bob)


def test_after_shredding_a_copy_taken_before_erasure_yields_nothing(session, vault, shop):
    identity = linked(session, vault, shop, "c-ks-6", "eve@example.com")
    session.flush()
    # What a backup of the main database holds: the rows as they were before erasure.
    backup = session.execute(
        sa.select(
            Identity.id,
            Identity.property_id,
            Identity.email_ciphertext,
            Identity.customer_ref_ciphertext,
        ).where(Identity.id == identity.id)
    ).one()
    forgotten = forget_identity(vault, identity)
    assert forgotten.customer_ref == "c-ks-6"  # the shop's webhook still gets it
    session.flush()
    assert vault.open(backup.id, backup.property_id, EMAIL, backup.email_ciphertext) is None
    ref = backup.customer_ref_ciphertext
    assert vault.open(backup.id, backup.property_id, CUSTOMER, ref) is None
    assert (identity.email_ciphertext, identity.customer_ref_ciphertext) == (None, None)
    assert (identity.email_index, identity.customer_ref_index) == (None, None)


def test_a_shredded_person_reads_as_erased_not_as_a_crash(session, vault, shop):
    identity = linked(session, vault, shop, "c-ks-7", "mal@example.com")
    vault.people.shred(identity.id)
    assert customer_ref_of(vault, identity) is None
    assert email_of(vault, identity) is None


def test_look_ups_and_linking_by_customer_ref_go_through_the_blind_index(
    client, session, vault, shop, api_key
):
    identity = linked(session, vault, shop, "c-ks-8", None)
    session.commit()
    again = link_identity(session, vault, shop, Claims("c-ks-8", "new@example.com"))
    assert again.identity_id == identity.id and not again.created
    headers = api_key("consent:read")
    answer = client.get("/v1/decisions?subject=customer:c-ks-8&purpose=analytics", headers=headers)
    assert answer.status_code == 200
    assert identity.customer_ref_index == vault.customer_index(shop, "c-ks-8")


def legacy_identity(session, vault, shop, ref, email) -> Identity:
    """A row as the release before person keys wrote it."""
    identity = Identity(
        id=new_id(),
        property_id=shop,
        customer_ref=ref,
        email_ciphertext=vault.cipher.encrypt(email, context=f"email:{shop}"),
        email_index=vault.email_index(shop, email),
    )
    session.add(identity)
    session.flush()
    return identity


def test_converting_earlier_rows_is_idempotent_and_keeps_them_findable(session, vault, shop):
    identity = legacy_identity(session, vault, shop, "c-ks-9", "old@example.com")
    assert email_of(vault, identity) == "old@example.com"  # readable before conversion
    assert convert_identities(session, vault, now=utcnow()) >= 1
    assert convert_identities(session, vault, now=utcnow()) == 0
    assert identity.customer_ref is None
    assert customer_ref_of(vault, identity) == "c-ks-9"
    assert email_of(vault, identity) == "old@example.com"
    found = link_identity(session, vault, shop, Claims("c-ks-9", None))
    assert found.identity_id == identity.id


def test_an_unconverted_row_is_still_found_by_its_plain_reference(session, vault, shop):
    identity = legacy_identity(session, vault, shop, "c-ks-10", "older@example.com")
    found = link_identity(session, vault, shop, Claims("c-ks-10", None))
    assert found.identity_id == identity.id
    assert identity.customer_ref is None  # converted on the way


def test_rewrapping_moves_every_key_to_the_current_master_key_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    before = KeyStore(url, Cipher((OLD,)))
    people = [uuid.uuid4() for _ in range(5)]
    keys = {person: before.key_for(person, now=utcnow()) for person in people}
    before.close()
    rotated = KeyStore(url, Cipher((NEW, OLD)))
    assert rotated.rewrap(batch_size=2) == 5
    assert rotated.rewrap(batch_size=2) == 0
    rotated.close()
    after = KeyStore(url, Cipher((NEW,)))  # the old master key removed
    assert after.keys_of(people) == keys
    assert after.status(["dk-new"]).by_kid == {"dk-new": 5}
    after.close()


def test_start_up_refuses_master_keys_that_lack_one_still_wrapping_person_keys(tmp_path, app):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    store = KeyStore(url, Cipher((OLD,)))
    store.key_for(uuid.uuid4(), now=utcnow())
    store.close()
    settings = app.extensions["consent_settings"]
    import dataclasses

    missing_old = dataclasses.replace(settings, data_keys=(NEW,), key_store_url=url)
    with pytest.raises(SettingsError, match="dk-old"):
        check_master_keys(KeyStore(url, Cipher((NEW,))), missing_old)


def test_an_unreachable_key_store_fails_closed_with_a_503_and_writes_nothing(
    app, client, session, api_key, vault, tmp_path
):
    broken = KeyStore(f"sqlite:///{tmp_path / 'missing-dir' / 'keys.db'}", vault.cipher)
    app.extensions["vault"] = Vault(vault.cipher, vault.index_key, broken)
    headers = api_key("subjects:write")
    try:
        response = client.post(
            "/v1/subjects/link",
            json={"visitor_id": str(uuid.uuid4()), "customer": "c-ks-11"},
            headers=headers,
        )
    finally:
        app.extensions["vault"] = vault
    assert response.status_code == 503
    assert response.json["type"].endswith("/problems/key-store-unavailable")
    assert response.headers["Retry-After"] == "5"
    index = vault.customer_index(get_property(session, "demo-shop").id, "c-ks-11")
    assert session.scalar(sa.select(Identity).where(Identity.customer_ref_index == index)) is None
    with pytest.raises(KeyStoreUnavailable):
        broken.keys_of([uuid.uuid4()])
