"""Turning a pseudonymous visitor into a known customer, only on a credential the browser
cannot forge: an identity token the shop backend signed, or an authenticated API call.

Identity tokens are itsdangerous ``URLSafeTimedSerializer`` tokens with HMAC-SHA256 key
derivation and signatures, so any shop backend (PHP, Node, the Python client's stdlib
signer) can make them from the documented format without our code. A token names the
visitor it is for and carries a nonce: it links that browser only, and only once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any
from typing import NamedTuple

import sqlalchemy as sa
from itsdangerous import BadData
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_service.errors import FieldError
from consent_service.errors import IdentityConflict
from consent_service.errors import InvalidIdentityToken
from consent_service.errors import ValidationFailed
from consent_service.infra.audit import Actor
from consent_service.infra.audit import record_as
from consent_service.infra.database import dialect_insert_for
from consent_service.infra.pii import CUSTOMER
from consent_service.infra.pii import EMAIL
from consent_service.infra.pii import Vault
from consent_service.infra.pii import is_person_sealed
from consent_service.infra.pii import is_plausible_email
from consent_service.infra.pii import normalise_email
from consent_service.infra.timed_tokens import hmac_sha256_serializer
from consent_service.messaging.webhooks import emit_link_consent_changed
from consent_service.models import Identity
from consent_service.models import IdentitySecret
from consent_service.models import IdentityTokenUse
from consent_service.models import Property
from consent_service.models import Subject
from consent_service.models.base import new_id
from consent_service.models.base import table_of
from consent_service.models.base import utcnow
from consent_service.properties.lookup import get_property

TOKEN_SALT = "consent-service/identity-token/v1"
# Account subjects' visitor ids are UUIDv5 in this namespace: derived, so found without a
# table, and never equal to a browser's random (v4) visitor id.
ACCOUNT_NAMESPACE = uuid.UUID("6b1f5c8e-2f0e-4f4b-9d3c-5f0d8f1c7a21")
SECRET_PREFIX = "cis_"
MAX_CUSTOMER_REF = 200
NONCE_BYTES = 16  # 22 URL-safe characters once encoded
LOCALE_NOT_OFFERED = "not one of the property's languages"
LOCALE_TAG = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,4}")  # BCP 47, loosely


@dataclasses.dataclass(frozen=True)
class Claims:
    """Who a trusted party says a visitor is."""

    customer_ref: str | None
    email: str | None
    # The customer's language (a BCP 47 tag), for the emails sent to them; checked against
    # the property's languages when linked (:func:`property_locale`).
    locale: str | None = None


@dataclasses.dataclass(frozen=True)
class Link:
    identity_id: uuid.UUID
    subject_id: uuid.UUID | None
    created: bool


def validate_claims(
    customer_ref: Any, email: Any, locale: Any = None, *, pointer: str = ""
) -> Claims:
    """Claims as typed values, or ValidationFailed naming each bad field. Whether the property
    speaks ``locale`` is checked when linking (:func:`property_locale`)."""
    errors: list[FieldError] = []
    if locale is not None and not (isinstance(locale, str) and LOCALE_TAG.fullmatch(locale)):
        errors.append(FieldError(f"{pointer}/locale", "not a BCP 47 language tag such as 'de'"))
    if customer_ref is not None and not valid_customer_ref(customer_ref):
        errors.append(
            FieldError(f"{pointer}/customer", "1 to 200 printable characters, no spaces at ends")
        )
    if email is not None and not (isinstance(email, str) and is_plausible_email(email.strip())):
        errors.append(FieldError(f"{pointer}/email", "not an email address"))
    if customer_ref is None and email is None:
        errors.append(FieldError(pointer or "/", "name a customer, an email, or both"))
    if errors:
        raise ValidationFailed("the identity is not valid", errors=errors)
    return Claims(customer_ref, normalise_email(email) if email is not None else None, locale)


def property_locale(
    session: Session, property_id: int, tag: str, *, pointer: str = "/locale"
) -> str:
    """``tag`` as one of the property's languages (``de-AT`` and ``DE`` are its ``de``), or
    ValidationFailed naming it: an email is only ever promised in a language the property
    has texts for, so a language it lacks is refused rather than silently replaced."""
    default, locales = session.execute(
        sa.select(Property.default_locale, Property.locales).where(Property.id == property_id)
    ).one()
    available = list(dict.fromkeys([default, *(locales or [])]))
    lowered = {locale.lower(): locale for locale in available}
    wanted = tag.strip().replace("_", "-").lower()
    for candidate in (wanted, wanted.split("-")[0]):
        if LOCALE_TAG.fullmatch(candidate) and candidate in lowered:
            return lowered[candidate]
    raise ValidationFailed(
        f"locale {tag!r} is not one of the property's languages ({', '.join(available)})",
        errors=[FieldError(pointer, LOCALE_NOT_OFFERED)],
    )


def remember_locale(
    session: Session, identity_id: uuid.UUID, locale: str, *, now: dt.datetime | None = None
) -> str | None:
    """Record the language a known customer chose (on the preferences page, say) for their
    emails; returns it as stored (normalised to one of the property's languages), or None
    when the customer is gone. Raises ValidationFailed for a language the property lacks."""
    identity = session.get(Identity, identity_id)
    if identity is None or identity.erased_at is not None:
        return None
    stored = property_locale(session, identity.property_id, locale)
    if identity.locale != stored:
        identity.locale = stored
        identity.updated_at = now or utcnow()
        session.flush()
    return stored


def valid_customer_ref(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_CUSTOMER_REF
        and value == value.strip()
        and value.isprintable()
    )


# --- identity secrets -----------------------------------------------------------------------


def create_identity_secret(session: Session, vault: Vault, property_key: str) -> tuple[str, str]:
    """A new signing secret for the property's identity tokens: (its id, the secret, shown once).

    Older secrets stay valid until revoked, so a shop can roll its backends over."""
    prop = get_property(session, property_key)
    secret_id = secrets.token_hex(4)
    plaintext = f"{SECRET_PREFIX}{secret_id}_{secrets.token_urlsafe(32)}"
    session.add(
        IdentitySecret(
            id=secret_id,
            property_id=prop.id,
            secret_ciphertext=vault.cipher.encrypt(plaintext, context=_secret_context(prop.id)),
        )
    )
    session.flush()
    return secret_id, plaintext


def revoke_identity_secret(session: Session, secret_id: str) -> bool:
    """Revoke a secret; True when this call revoked it (False: it was revoked before)."""
    row = session.get(IdentitySecret, secret_id)
    if row is None:
        raise ValidationFailed(f"there is no identity secret {secret_id!r}")
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.flush()
    return True


def record_identity_secret_created(
    session: Session, who: Actor, secret_id: str, property_key: str
) -> None:
    """Audit a new identity secret in the transaction that made it: whoever holds one can link
    any browser to any customer of the property, so the log must know of every one."""
    record_as(
        session,
        who,
        "identity_secret.created",
        target_type="identity_secret",
        target_id=secret_id,
        before=None,
        after={"property": property_key},
    )


def record_identity_secret_revoked(session: Session, who: Actor, secret_id: str) -> None:
    """Audit a revocation (only one that revoked something: see revoke_identity_secret)."""
    record_as(
        session,
        who,
        "identity_secret.revoked",
        target_type="identity_secret",
        target_id=secret_id,
        before={"revoked": False},
        after={"revoked": True},
    )


def live_identity_secrets(session: Session, vault: Vault, property_id: int) -> list[str]:
    rows = session.scalars(
        sa.select(IdentitySecret)
        .where(IdentitySecret.property_id == property_id, IdentitySecret.revoked_at.is_(None))
        .order_by(IdentitySecret.created_at)
    )
    return [
        vault.cipher.decrypt(row.secret_ciphertext, context=_secret_context(property_id))
        for row in rows
    ]


def _secret_context(property_id: int) -> str:
    return f"identity-secret:{property_id}"


def token_serializer(
    secret_keys: list[str], *, signed_at: dt.datetime | None = None
) -> URLSafeTimedSerializer:
    """The serializer both sides use; the last key signs, every key verifies."""
    return hmac_sha256_serializer(secret_keys, TOKEN_SALT, signed_at=signed_at)


def sign_identity_token(
    secret: str,
    property_key: str,
    visitor_id: uuid.UUID,
    claims: Claims,
    *,
    signed_at: dt.datetime | None = None,
    nonce: str | None = None,
) -> str:
    """What a shop backend does (tests and the demo use it too): a token for one visitor of
    one property, with a fresh random nonce so it can be redeemed once."""
    payload: dict[str, str] = {
        "p": property_key,
        "v": str(visitor_id),
        "n": secrets.token_urlsafe(NONCE_BYTES) if nonce is None else nonce,
    }
    if claims.customer_ref is not None:
        payload["c"] = claims.customer_ref
    if claims.email is not None:
        payload["e"] = claims.email
    if claims.locale is not None:
        payload["l"] = claims.locale
    return str(token_serializer([secret], signed_at=signed_at).dumps(payload))


def redeem_identity_token(
    session: Session,
    vault: Vault,
    property_id: int,
    property_key: str,
    visitor_id: uuid.UUID,
    token: str,
    max_age: int,
    *,
    now: dt.datetime | None = None,
) -> Claims:
    """The claims of a token made for this property and this visitor, used up: its nonce is
    recorded in the caller's transaction, so a second redemption (from this or any other
    browser, in this or any other process) is refused. Nonces of tokens that have expired
    anyway are pruned on the way. Raises InvalidIdentityToken, saying why, otherwise."""
    secret_keys = live_identity_secrets(session, vault, property_id)
    if not secret_keys:
        raise InvalidIdentityToken(f"property {property_key!r} has no identity secret")
    try:
        payload, signed_at = token_serializer(secret_keys).loads(
            token, max_age=max_age, return_timestamp=True
        )
    except SignatureExpired:
        raise InvalidIdentityToken("the identity token has expired; sign a fresh one") from None
    except BadData:
        raise InvalidIdentityToken("the identity token's signature does not verify") from None
    if not isinstance(payload, dict) or payload.get("p") != property_key:
        raise InvalidIdentityToken("the identity token was made for another property")
    missing = [name for name in ("v", "n") if name not in payload]
    if missing:
        raise InvalidIdentityToken(
            "the identity token names no "
            + " and no ".join(_TOKEN_FIELDS[name] for name in missing)
            + ": tokens are bound to one visitor and used once; sign a new one with the"
            " visitor id (see the identity recipe)"
        )
    if payload["v"] != str(visitor_id):
        raise InvalidIdentityToken("the identity token was made for another visitor")
    nonce = payload["n"]
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        raise InvalidIdentityToken("the identity token's nonce is not 16 to 64 URL-safe characters")
    try:
        claims = validate_claims(payload.get("c"), payload.get("e"), payload.get("l"))
    except ValidationFailed:
        raise InvalidIdentityToken("the identity token's claims are not valid") from None
    if claims.locale is not None:
        try:
            claims = dataclasses.replace(
                claims, locale=property_locale(session, property_id, claims.locale)
            )
        except ValidationFailed as exc:
            raise InvalidIdentityToken(f"the identity token's {exc.detail}") from None
    _use_nonce(session, property_id, nonce, signed_at + dt.timedelta(seconds=max_age), now)
    return claims


_TOKEN_FIELDS = {"v": "visitor (v)", "n": "nonce (n)"}
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _use_nonce(
    session: Session,
    property_id: int,
    nonce: str,
    expires_at: dt.datetime,
    now: dt.datetime | None,
) -> None:
    session.execute(
        sa.delete(IdentityTokenUse).where(IdentityTokenUse.expires_at < (now or utcnow()))
    )
    try:
        with session.begin_nested():
            session.add(
                IdentityTokenUse(property_id=property_id, nonce=nonce, expires_at=expires_at)
            )
            session.flush()
    except IntegrityError:
        raise InvalidIdentityToken(
            "the identity token has already been used; sign a fresh one for each page"
        ) from None


# --- linking ---------------------------------------------------------------------------------


def account_visitor_id(identity_id: uuid.UUID) -> uuid.UUID:
    """The visitor id of a customer's account subject: where consent a shop backend records
    on the customer's behalf (checkout box, phone, paper form) is chained."""
    return uuid.uuid5(ACCOUNT_NAMESPACE, str(identity_id))


def link_identity(
    session: Session,
    vault: Vault,
    property_id: int,
    claims: Claims,
    *,
    visitor_id: uuid.UUID | None = None,
    account: bool = False,
    now: dt.datetime | None = None,
) -> Link:
    """Record that ``claims`` name one customer and, if given, that the visitor is them.

    Refuses (IdentityConflict) rather than merge two customers: when the customer reference
    and the email already belong to different customers, or the browser is linked to another
    customer (a shared computer: the widget should start a new visitor id). With ``account``,
    the customer's account subject (see :func:`account_visitor_id`) is attached instead.
    A ``locale`` in the claims becomes the customer's language for emails (ValidationFailed,
    nothing written, when the property lacks it).
    """
    now = now or utcnow()
    locale = (
        property_locale(session, property_id, claims.locale) if claims.locale is not None else None
    )
    email_index = vault.email_index(property_id, claims.email) if claims.email is not None else None
    try:
        with session.begin_nested():
            identity, created = _find_or_create_identity(
                session, vault, property_id, claims, email_index, now
            )
            identity.updated_at = now
            if locale is not None:
                identity.locale = locale
            session.flush()
            subject_id = None
            if account:
                visitor_id = account_visitor_id(identity.id)
            if visitor_id is not None:
                subject_id, linked_now = _attach(session, property_id, visitor_id, identity.id, now)
                if linked_now:
                    # What the browser chose before may now be the customer's answer.
                    emit_link_consent_changed(
                        session, property_id, identity.id, subject_id, now=now
                    )
    except IntegrityError:
        raise IdentityConflict(
            "another link for this customer was made at the same moment; retry"
        ) from None
    return Link(identity.id, subject_id, created)


def _find_or_create_identity(
    session: Session,
    vault: Vault,
    property_id: int,
    claims: Claims,
    email_index: str | None,
    now: dt.datetime,
) -> tuple[Identity, bool]:
    ref_index = (
        vault.customer_index(property_id, claims.customer_ref)
        if claims.customer_ref is not None
        else None
    )
    matches = []
    if claims.customer_ref is not None:
        matches.append(Identity.customer_ref_index == ref_index)
        # A row an earlier release wrote, not yet converted (``keystore convert``).
        matches.append(Identity.customer_ref == claims.customer_ref)
    if email_index is not None:
        matches.append(Identity.email_index == email_index)
    found = list(
        session.scalars(
            sa.select(Identity).where(Identity.property_id == property_id, sa.or_(*matches))
        )
    )
    if len(found) > 1:
        raise IdentityConflict("the customer reference and the email belong to different customers")
    if not found:
        identity = Identity(id=new_id(), property_id=property_id)
        session.add(identity)
        _seal_claims(vault, identity, claims, ref_index, email_index, now)
        return identity, True
    identity = found[0]
    convert_identity(vault, identity, now=now)
    known_ref = identity.customer_ref_index
    if ref_index is not None and known_ref not in (None, ref_index):
        raise IdentityConflict("this email belongs to another customer reference")
    if known_ref is not None:
        ref_index = None  # already this one
    if email_index is not None and identity.email_index == email_index:
        email_index = None  # unchanged
    # The customer may have changed their address: the new one replaces the old.
    _seal_claims(vault, identity, claims, ref_index, email_index, now)
    return identity, False


def _seal_claims(
    vault: Vault,
    identity: Identity,
    claims: Claims,
    ref_index: str | None,
    email_index: str | None,
    now: dt.datetime,
) -> None:
    """Set what the claims add, sealed with the person's own key (made the first time)."""
    if ref_index is not None and claims.customer_ref is not None:
        identity.customer_ref_index = ref_index
        identity.customer_ref_ciphertext = vault.seal(
            identity.id, identity.property_id, CUSTOMER, claims.customer_ref, now=now
        )
    if email_index is not None and claims.email is not None:
        identity.email_index = email_index
        identity.email_ciphertext = vault.seal(
            identity.id, identity.property_id, EMAIL, claims.email, now=now
        )


def convert_identity(vault: Vault, identity: Identity, *, now: dt.datetime) -> bool:
    """Move a row an earlier release wrote to the person-key form: the plaintext customer
    reference becomes ciphertext + blind index, an email sealed with the data keys is resealed
    with the person's key. Returns whether anything changed (idempotent)."""
    changed = False
    if identity.customer_ref is not None:
        ref = identity.customer_ref
        identity.customer_ref_index = vault.customer_index(identity.property_id, ref)
        identity.customer_ref_ciphertext = vault.seal(
            identity.id, identity.property_id, CUSTOMER, ref, now=now
        )
        identity.customer_ref = None
        changed = True
    ciphertext = identity.email_ciphertext
    if ciphertext is not None and not is_person_sealed(ciphertext):
        address = vault.open(identity.id, identity.property_id, EMAIL, ciphertext)
        assert address is not None, "an email sealed with the data keys always opens"
        identity.email_ciphertext = vault.seal(
            identity.id, identity.property_id, EMAIL, address, now=now
        )
        changed = True
    return changed


def convert_identities(
    session: Session, vault: Vault, *, now: dt.datetime, batch_size: int = 500
) -> int:
    """One batch of :func:`convert_identity` over rows an earlier release wrote (a plain
    customer reference, or an email sealed with the data keys); returns how many changed.
    The caller commits and calls again until 0: each batch is its own short transaction."""
    legacy = sa.or_(
        Identity.customer_ref.is_not(None),
        sa.and_(
            Identity.email_ciphertext.is_not(None),
            sa.func.substr(Identity.email_ciphertext, 1, 1) != b"\x02",
        ),
    )
    rows = session.scalars(
        sa.select(Identity)
        .where(legacy, Identity.erased_at.is_(None))
        .order_by(Identity.id)
        .limit(batch_size)
    ).all()
    changed = sum(convert_identity(vault, identity, now=now) for identity in rows)
    session.flush()
    return changed


def customer_ref_of(
    vault: Vault, identity: Identity, *, keys: Mapping[uuid.UUID, bytes] | None = None
) -> str | None:
    """The customer's reference in plain text: None when there is none or the person's key
    was shredded (erased)."""
    if identity.customer_ref is not None:
        return identity.customer_ref
    if identity.customer_ref_ciphertext is None:
        return None
    return vault.open(
        identity.id, identity.property_id, CUSTOMER, identity.customer_ref_ciphertext, keys=keys
    )


def email_of(
    vault: Vault, identity: Identity, *, keys: Mapping[uuid.UUID, bytes] | None = None
) -> str | None:
    """The customer's email in plain text: None when there is none or it was shredded."""
    if identity.email_ciphertext is None:
        return None
    return vault.open(
        identity.id, identity.property_id, EMAIL, identity.email_ciphertext, keys=keys
    )


class Forgotten(NamedTuple):
    """What :func:`forget_identity` leaves the caller: the reference the shop's webhook needs,
    and how many person keys the key store deleted (0: the person never had one)."""

    customer_ref: str | None
    keys_shredded: int


def forget_identity(vault: Vault, identity: Identity) -> Forgotten:
    """Erasure's crypto-shredding: the customer reference (opened first, for the shop's
    ``subject.erased`` webhook), then every sealed column and index wiped and the person's
    key deleted from the key store, so each copy of those ciphertexts in every backup of the
    main database stays sealed for good. Fails closed (KeyStoreUnavailable) before anything
    is wiped when the key store cannot be reached."""
    customer_ref = customer_ref_of(vault, identity)
    shredded = vault.people.shred(identity.id)
    identity.customer_ref = None
    identity.customer_ref_ciphertext = None
    identity.customer_ref_index = None
    identity.email_ciphertext = None
    identity.email_index = None
    return Forgotten(customer_ref, shredded)


def _attach_visitor(
    session: Session,
    property_id: int,
    visitor_id: uuid.UUID,
    identity_id: uuid.UUID,
    now: dt.datetime,
) -> uuid.UUID:
    return _attach(session, property_id, visitor_id, identity_id, now)[0]


def _attach(
    session: Session,
    property_id: int,
    visitor_id: uuid.UUID,
    identity_id: uuid.UUID,
    now: dt.datetime,
) -> tuple[uuid.UUID, bool]:
    """The visitor's subject (created if new) linked to the customer, and whether this call
    linked it (False: it already was)."""
    subjects = table_of(Subject)
    dialect = session.get_bind().dialect.name
    insert = dialect_insert_for(dialect, subjects).values(
        id=new_id(), property_id=property_id, visitor_id=visitor_id, created_at=now
    )
    session.execute(insert.on_conflict_do_nothing(index_elements=["property_id", "visitor_id"]))
    subject_id, linked_to = session.execute(
        sa.select(Subject.id, Subject.identity_id).where(
            Subject.property_id == property_id, Subject.visitor_id == visitor_id
        )
    ).one()
    if linked_to is not None and linked_to != identity_id:
        raise IdentityConflict(
            "this browser is linked to another customer; give the visitor a new visitor id"
        )
    if linked_to is None:
        session.execute(
            sa.update(Subject).where(Subject.id == subject_id).values(identity_id=identity_id)
        )
    return uuid.UUID(str(subject_id)), linked_to is None


def ensure_account_subject(
    session: Session, property_id: int, identity_id: uuid.UUID, now: dt.datetime | None = None
) -> uuid.UUID:
    """The visitor id of the customer's account subject, created and linked the first time:
    where the customer's own choices on the preferences page are chained."""
    visitor_id = account_visitor_id(identity_id)
    _attach_visitor(session, property_id, visitor_id, identity_id, now or utcnow())
    return visitor_id
