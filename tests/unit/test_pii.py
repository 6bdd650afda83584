"""Personal data at rest: AES-GCM with the key id inside, bound to its place; blind indexes."""

from __future__ import annotations

import pytest

from consent_service.infra.keystore import KeyStore
from consent_service.infra.pii import Cipher
from consent_service.infra.pii import DataKey
from consent_service.infra.pii import UndecryptableData
from consent_service.infra.pii import Vault
from consent_service.infra.pii import blind_index
from consent_service.infra.pii import normalise_email
from consent_service.infra.pii import parse_data_keys

OLD = DataKey("old", b"o" * 32)
NEW = DataKey("new", b"n" * 32)


def key_id_of(ciphertext: bytes) -> str:
    """The key id a ciphertext names (``v1 | kid length | kid | ...``): what decrypt reads."""
    return ciphertext[2 : 2 + ciphertext[1]].decode(errors="replace")


def test_a_sealed_value_opens_again_and_does_not_contain_the_plaintext():
    sealed = Cipher((NEW,)).encrypt("ada@example.com", context="email:1")
    assert b"ada" not in sealed
    assert Cipher((NEW,)).decrypt(sealed, context="email:1") == "ada@example.com"


def test_sealing_twice_gives_different_ciphertexts():
    cipher = Cipher((NEW,))
    assert cipher.encrypt("x", context="c") != cipher.encrypt("x", context="c")


def test_values_sealed_with_a_rotated_out_key_still_open_while_it_is_configured():
    sealed = Cipher((OLD,)).encrypt("ada@example.com", context="email:1")
    rotated = Cipher((NEW, OLD))
    assert key_id_of(sealed) == "old"
    assert rotated.decrypt(sealed, context="email:1") == "ada@example.com"
    assert key_id_of(rotated.encrypt("x", context="c")) == "new"


def test_a_value_sealed_with_a_key_no_longer_configured_does_not_open():
    sealed = Cipher((OLD,)).encrypt("x", context="c")
    with pytest.raises(UndecryptableData, match="no data key 'old'"):
        Cipher((NEW,)).decrypt(sealed, context="c")


def test_a_value_moved_to_another_place_does_not_open():
    sealed = Cipher((NEW,)).encrypt("ada@example.com", context="email:1")
    with pytest.raises(UndecryptableData):
        Cipher((NEW,)).decrypt(sealed, context="email:2")


def test_a_tampered_value_does_not_open():
    sealed = bytearray(Cipher((NEW,)).encrypt("ada@example.com", context="c"))
    sealed[-1] ^= 1
    with pytest.raises(UndecryptableData):
        Cipher((NEW,)).decrypt(bytes(sealed), context="c")


def test_emails_are_normalised_to_one_spelling_per_mailbox():
    assert normalise_email("  Ada@Example.COM ") == "ada@example.com"


def test_a_blind_index_depends_on_the_key_the_property_and_the_kind():
    base = blind_index(b"k" * 32, 1, "email", "ada@example.com")
    assert base == blind_index(b"k" * 32, 1, "email", "ada@example.com")
    assert base != blind_index(b"K" * 32, 1, "email", "ada@example.com")
    assert base != blind_index(b"k" * 32, 2, "email", "ada@example.com")
    assert base != blind_index(b"k" * 32, 1, "phone", "ada@example.com")


def test_the_vault_indexes_an_email_whatever_its_spelling():
    vault = Vault(Cipher((NEW,)), b"k" * 32, KeyStore("sqlite://", Cipher((NEW,))))
    assert vault.email_index(1, "Ada@Example.com") == vault.email_index(1, "ada@example.com ")


@pytest.mark.parametrize(
    ("spec", "message"),
    [("", "at least one"), ("bad id!:AAAA", "key id"), ("a:c2hvcnQ", "32 bytes")],
)
def test_malformed_data_key_specs_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_data_keys(spec)
