"""Recording consent as signed, hash-chained receipts, and checking them afterwards."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import logging
import uuid
from collections.abc import Mapping
from collections.abc import Sequence
from http import HTTPStatus

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_service.consent.state import GRANTED
from consent_service.consent.state import state_rows
from consent_service.consent.state import upsert_state
from consent_service.errors import ConcurrentConsentWrite
from consent_service.errors import ConsentServiceError
from consent_service.errors import FieldError
from consent_service.errors import PolicyVersionNotCurrent
from consent_service.errors import UnknownPolicy
from consent_service.errors import UnknownPurpose
from consent_service.errors import ValidationFailed
from consent_service.infra.database import begin_write
from consent_service.infra.database import dialect_insert_for
from consent_service.infra.database import execute_core
from consent_service.infra.driver_statements import DriverStatement
from consent_service.infra.signing import SigningKey
from consent_service.infra.signing import jws_sha256
from consent_service.infra.times import rfc3339_millis
from consent_service.infra.urls import policy_url
from consent_service.jurisdictions.rulebook import jurisdiction_for_region
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.jurisdictions.rules import Regime
from consent_service.messaging.webhooks import emit_consent_changed
from consent_service.models import ConsentReceipt
from consent_service.models import ConsentState
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import SigningKeyRecord
from consent_service.models import Subject
from consent_service.models import VersionStatus
from consent_service.models.base import new_id
from consent_service.models.base import table_of
from consent_service.models.base import utcnow
from consent_service.properties.context_cache import ContextCache
from consent_service.properties.jurisdiction_overrides import apply_overrides
from consent_service.properties.lookup import ConsentContext
from consent_service.properties.lookup import OfferedPurpose
from consent_service.properties.lookup import PolicyRef
from consent_service.properties.lookup import check_origin
from consent_service.properties.lookup import consent_context

RECEIPT_SCHEMA = "consent-service/receipt/v1"
# A receipt's ``source`` when a compliance scan's click recorded it (``scanning/token.py``):
# signed like any other, but not a person's choice, so no ``consent.changed`` event.
SCAN_SOURCE = "scan"
log = logging.getLogger(__name__)
DENIED = "denied"


class Method(enum.StrEnum):
    ACCEPT_ALL = "accept_all"
    REJECT_ALL = "reject_all"
    CUSTOM = "custom"
    WITHDRAWAL = "withdrawal"
    # The regime's defaults, acknowledged on a notice's first layer.
    ACKNOWLEDGE = "acknowledge"
    # An opt-out preference signal (GPC) the widget saw, recorded so look-ups know.
    GPC = "gpc"


class ReoptinConfirmationRequired(ConsentServiceError):
    code = "reoptin-confirmation-required"
    title = "Opting back in needs a second, confirming step"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    description = (
        "The person opted out of the sale or sharing of their data, and this choice opts "
        "them back in. Where the law asks for two steps (California, 11 CCR §7028), ask "
        'them to confirm and send the choice again with `"reoptin_confirmed": true`. '
        "Nothing was recorded."
    )


# What each blanket method means for every non-essential purpose (None: chosen one by one).
_BLANKET: dict[Method, bool | None] = {
    Method.ACCEPT_ALL: True,
    Method.REJECT_ALL: False,
    Method.WITHDRAWAL: False,
    Method.CUSTOM: None,
    Method.ACKNOWLEDGE: None,
    Method.GPC: None,
}


@dataclasses.dataclass(frozen=True)
class ConsentRequest:
    """One act of consent as a surface (widget, API, preferences page) received it."""

    property_key: str
    visitor_id: uuid.UUID
    policy_version: int
    method: Method
    decisions: Mapping[str, bool]
    gpc: bool = False
    source: str = "widget"
    region: str | None = None
    network: str | None = None
    # The Origin of the page that sent the choice (browsers send it); None from servers.
    origin: str | None = None
    # The person confirmed, in a second step, opting back in after an opt-out (§7028).
    reoptin_confirmed: bool = False


class Issuer:
    """Who signs receipts and where the policies they cite are published; one per process.

    The signing key's public half must be in ``signing_keys`` before its first receipt (the
    receipts' foreign key insists). :meth:`register` does that once, committed on its own, at
    start-up; until it has succeeded, every receipt registers the key in its own transaction.
    """

    def __init__(self, key: SigningKey, base_url: str) -> None:
        self.key = key
        self.base_url = base_url
        self._registered = False

    def register(self, engine: sa.Engine) -> bool:
        """Register the key in its own transaction; False if the database is not ready."""
        try:
            with engine.begin() as connection:
                connection.execute(_register_key(engine.dialect.name), self._key_row())
        except sa.exc.DBAPIError:
            log.info("signing key %s not registered yet: is the database migrated?", self.key.kid)
            return False
        self._registered = True
        return True

    def forget_registration(self) -> None:
        """Register again with the next receipt: the database no longer has the key."""
        self._registered = False

    def ensure_registered(self, session: Session) -> None:
        if not self._registered:
            session.execute(_register_key(session.get_bind().dialect.name), self._key_row())

    def _key_row(self) -> dict[str, object]:
        return {"kid": self.key.kid, "public_x": self.key.public_x, "created_at": utcnow()}


@dataclasses.dataclass(frozen=True)
class RecordedReceipt:
    receipt_id: uuid.UUID
    jws: str
    payload: dict[str, object]
    # The consent context the receipt was judged by, confirmed by the write's own read of
    # the property's config_version: what a token issued for this receipt judges by too.
    context: ConsentContext


def record_consent(
    session: Session,
    request: ConsentRequest,
    *,
    issuer: Issuer,
    now: dt.datetime | None = None,
    contexts: ContextCache | None = None,
) -> RecordedReceipt:
    """Sign a receipt for ``request`` and update the state projection, in the caller's
    transaction (the caller commits). Nothing is written when anything is refused.

    ``contexts``: the property's consent context may come from this cache (the widget's hot
    path). A cached context is confirmed by the ``config_version`` the subject's upsert reads
    back; a request it refuses, or a property changed since, is judged again by the context
    read fresh, so a change made anywhere applies to the very next consent.
    """
    now = _to_millis(now or utcnow())
    begin_write(session)
    if contexts is None:
        context, confirmed = consent_context(session, request.property_key, now=now), True
    else:
        context, confirmed = contexts.get(session, request.property_key, now=now)
    try:
        checked = _checked(session, request, context, issuer, now)
    except ConsentServiceError:
        if confirmed or contexts is None:
            raise
        context, confirmed = contexts.load(session, request.property_key, now=now), True
        checked = _checked(session, request, context, issuer, now)
    recorded = _write(session, checked, issuer, unconfirmed=not confirmed)
    if recorded is None:  # the property changed since this process read it
        assert contexts is not None
        context = contexts.load(session, request.property_key, now=now)
        checked = _checked(session, request, context, issuer, now)
        recorded = _write(session, checked, issuer, unconfirmed=False)
        assert recorded is not None
    return recorded


@dataclasses.dataclass(frozen=True)
class _Checked:
    """A request that passed every check against one consent context."""

    request: ConsentRequest
    context: ConsentContext
    jurisdiction: Jurisdiction
    decisions: dict[str, str]
    version: PolicyRef
    now: dt.datetime


def _checked(
    session: Session,
    request: ConsentRequest,
    context: ConsentContext,
    issuer: Issuer,
    now: dt.datetime,
) -> _Checked:
    """Every refusal a consent can meet, before anything is written."""
    check_origin(
        request.origin, context.allowed_origins, context.property_key, base_url=issuer.base_url
    )
    jurisdiction = apply_overrides(
        jurisdiction_for_region(request.region, on=now.date()), context.overrides
    )
    decisions = resolve_decisions(context.purposes, request, jurisdiction)
    version = _check_policy_version(session, context, request.policy_version)
    if jurisdiction.reoptin_confirmation and not request.reoptin_confirmed:
        _check_no_unconfirmed_reoptin(session, context, request.visitor_id, decisions)
    return _Checked(request, context, jurisdiction, decisions, version, now)


def _write(
    session: Session,
    checked: _Checked,
    issuer: Issuer,
    *,
    unconfirmed: bool,
) -> RecordedReceipt | None:
    """Write the receipt, the state rows and the event; None (nothing but the subject's row
    written) when the context is ``unconfirmed`` (cached) and no longer the property's."""
    request, context, jurisdiction, now = (
        checked.request,
        checked.context,
        checked.jurisdiction,
        checked.now,
    )
    version, decisions = checked.version, checked.decisions
    [locked] = _LOCK_SUBJECT.rows(
        session,
        {
            "id": new_id(),
            "property_id": context.property_id,
            "visitor_id": request.visitor_id,
            "created_at": now,
        },
    )
    subject_id = locked[0]
    if unconfirmed and not ContextCache.is_current(context, locked[1]):
        return None
    previous = _CHAIN_HEAD.rows(session, {"subject_id": subject_id})
    receipt_id = new_id()
    seq = previous[0][0] + 1 if previous else 1
    prev_hash = previous[0][1] if previous else None
    expires_at = now + jurisdiction.consent_lifetime
    payload: dict[str, object] = {
        "schema": RECEIPT_SCHEMA,
        "receipt_id": str(receipt_id),
        "property": context.property_key,
        "controller": context.controller_name,
        "subject": str(subject_id),
        "visitor_id": str(request.visitor_id),
        "seq": seq,
        "prev": prev_hash,
        "policy": {
            "document": context.document_key,
            "version": version.number,
            "sha256": version.sha256,
            "url": _policy_url(
                issuer.base_url, context.property_key, context.document_key, version.number
            ),
        },
        "jurisdiction": jurisdiction.code,
        "region": request.region,
        "decisions": decisions,
        "method": request.method.value,
        "source": request.source,
        "gpc": request.gpc,
        "network": request.network,
        "issued_at": rfc3339_millis(now),
        "expires_at": rfc3339_millis(expires_at),
    }
    if request.reoptin_confirmed:
        payload["reoptin_confirmed"] = True
    issuer.ensure_registered(session)
    jws = issuer.key.sign(payload)
    receipt = {
        "id": receipt_id,
        "property_id": context.property_id,
        "subject_id": subject_id,
        "seq": seq,
        "policy_version_id": version.id,
        "policy_sha256": version.sha256,
        "jurisdiction": jurisdiction.code,
        "region": request.region,
        "method": request.method.value,
        "source": request.source,
        "gpc": request.gpc,
        "decisions": decisions,
        "network": request.network,
        "issued_at": now,
        "expires_at": expires_at,
        "prev_hash": prev_hash,
        "kid": issuer.key.kid,
        "jws": jws,
        "jws_sha256": jws_sha256(jws),
    }
    try:
        _INSERT_RECEIPT.run(session, receipt)
    except IntegrityError as exc:
        if "seq" not in str(exc.orig):  # only the chain's (subject_id, seq) key means a race
            # Otherwise a foreign key failed; SQLite does not say which, and the key row
            # vanishing (a restored database) is the one this process can repair.
            issuer.forget_registration()
            raise
        raise ConcurrentConsentWrite(
            "another consent for this visitor was recorded at the same moment; retry"
        ) from exc
    purpose_ids = {p.key: p.id for p in context.purposes}
    upsert_state(session, state_rows(receipt, version.number, purpose_ids))
    if request.source == SCAN_SOURCE:
        return RecordedReceipt(receipt_id=receipt_id, jws=jws, payload=payload, context=context)
    emit_consent_changed(
        session,
        receipt,
        property_key=context.property_key,
        visitor_id=request.visitor_id,
        policy_version=version.number,
    )
    return RecordedReceipt(receipt_id=receipt_id, jws=jws, payload=payload, context=context)


def resolve_decisions(
    purposes: Sequence[OfferedPurpose], request: ConsentRequest, jurisdiction: Jurisdiction
) -> dict[str, str]:
    """The full snapshot for every offered purpose, or a ValidationFailed naming each bad field.

    Essential purposes are always granted; a blanket method fixes every other purpose and any
    decision sent with it must agree; ``acknowledge`` fixes each to the regime's default, and
    only a first layer that offers it may send it; ``custom`` and ``gpc`` need a decision for
    each. Where the jurisdiction honours GPC, the signal denies sale / sharing /
    targeted-advertising purposes; ``gpc`` records that signal, so it needs one, and a
    jurisdiction where it counts.
    """
    offered = {p.key: p for p in purposes}
    unknown = [key for key in request.decisions if key not in offered]
    if unknown:
        raise UnknownPurpose(
            f"property {request.property_key!r} offers no purpose {unknown[0]!r}",
            errors=[
                FieldError(f"/decisions/{key}", "not a purpose this property offers")
                for key in unknown
            ],
        )
    _check_method_applies(request, jurisdiction)
    blanket = _BLANKET[request.method]
    errors: list[FieldError] = []
    snapshot: dict[str, str] = {}
    for key, purpose in offered.items():
        given = request.decisions.get(key)
        if purpose.essential:
            if given is False:
                errors.append(
                    FieldError(f"/decisions/{key}", "an essential purpose cannot be refused")
                )
            snapshot[key] = GRANTED
            continue
        fixed = (
            _acknowledged(key, jurisdiction) if request.method is Method.ACKNOWLEDGE else blanket
        )
        if fixed is None and given is None:
            errors.append(
                FieldError(f"/decisions/{key}", "a decision is required for every offered purpose")
            )
            continue
        if fixed is not None and given is not None and given != fixed:
            errors.append(FieldError(f"/decisions/{key}", _contradiction(request.method)))
            continue
        granted = fixed if fixed is not None else bool(given)
        if granted and request.gpc and jurisdiction.honours_gpc and purpose.opt_out_categories:
            granted = False
        snapshot[key] = GRANTED if granted else DENIED
    if errors:
        raise ValidationFailed(
            f"{len(errors)} decision(s) are not valid for method {request.method.value!r}",
            errors=errors,
        )
    return snapshot


# What a decision that disagrees with its method is told. For ``acknowledge`` it depends on
# the visitor's jurisdiction (its defaults), which no request schema can state.
ACKNOWLEDGE_DEFAULT_DIFFERS = "differs from the jurisdiction's default, which 'acknowledge' records"
GPC_NOT_HONOURED = "GPC is not honoured in this jurisdiction"
NOT_ON_FIRST_LAYER = "not offered on this jurisdiction's first layer"


def _contradiction(method: Method) -> str:
    if method is Method.ACKNOWLEDGE:
        return ACKNOWLEDGE_DEFAULT_DIFFERS
    return f"contradicts method {method.value!r}"


def _acknowledged(key: str, jurisdiction: Jurisdiction) -> bool:
    """What acknowledging a notice means for a purpose: the regime's default, as the banner
    showed it (nothing is on by default where the law wants opt-in)."""
    return jurisdiction.regime is not Regime.OPT_IN and jurisdiction.purpose_defaults.get(key, True)


def _check_method_applies(request: ConsentRequest, jurisdiction: Jurisdiction) -> None:
    """``acknowledge`` only where the first layer offers it; ``gpc`` only with a signal that
    has legal effect where the person is. Otherwise 422, and nothing is recorded."""
    where = jurisdiction.name or jurisdiction.code
    if request.method is Method.ACKNOWLEDGE and "acknowledge" not in jurisdiction.first_layer:
        raise ValidationFailed(
            f"{where} asks for a choice, not an acknowledgement: its first layer offers "
            f"{', '.join(jurisdiction.first_layer)}; nothing recorded",
            errors=[FieldError("/method", NOT_ON_FIRST_LAYER)],
        )
    if request.method is Method.GPC and not request.gpc:
        raise ValidationFailed(
            "method 'gpc' records a Global Privacy Control signal, but the request carries "
            "none (gpc is false and there is no Sec-GPC: 1); nothing recorded",
            errors=[FieldError("/gpc", "must be true for method 'gpc'")],
        )
    if request.method is Method.GPC and not jurisdiction.honours_gpc:
        raise ValidationFailed(
            f"GPC has no legal effect in {where}; nothing recorded",
            errors=[FieldError("/method", GPC_NOT_HONOURED)],
        )


def _check_no_unconfirmed_reoptin(
    session: Session, context: ConsentContext, visitor_id: uuid.UUID, decisions: Mapping[str, str]
) -> None:
    """Refuse a grant of a sale / sharing purpose the person has opted out of (their latest
    choice for it, on this browser or any browser of the same customer, is a refusal) unless
    they confirmed it in a second step (11 CCR §7028)."""
    regranted = {
        p.id: p.key
        for p in context.purposes
        if not p.essential and p.facts.gpc_applies and decisions.get(p.key) == GRANTED
    }
    if not regranted:
        return
    latest: dict[int, tuple[dt.datetime, bool]] = {}
    params = {
        "property_id": context.property_id,
        "visitor_id": visitor_id,
        "purpose_ids": list(regranted),
    }
    for row in execute_core(session, _person_states(), params):
        if row.purpose_id not in latest or row.given_at > latest[row.purpose_id][0]:
            latest[row.purpose_id] = (row.given_at, row.granted)
    opted_out = [regranted[pid] for pid, (_, granted) in latest.items() if not granted]
    if opted_out:
        keys = ", ".join(sorted(opted_out))
        raise ReoptinConfirmationRequired(
            f"this opts the person back in to {keys} after they opted out: ask them to "
            "confirm, then send the choice again with reoptin_confirmed: true",
            errors=[FieldError("/reoptin_confirmed", "must be true to opt back in")],
        )


@functools.cache
def _person_states() -> sa.Select[int, dt.datetime, bool]:
    """The state rows of a browser and of every browser linked to the same customer."""
    this = (
        sa.select(Subject.id, Subject.identity_id)
        .where(
            Subject.property_id == sa.bindparam("property_id"),
            Subject.visitor_id == sa.bindparam("visitor_id"),
        )
        .subquery()
    )
    same_person = sa.select(Subject.id).where(
        sa.or_(
            Subject.id.in_(sa.select(this.c.id)),
            Subject.identity_id.in_(
                sa.select(this.c.identity_id).where(this.c.identity_id.is_not(None))
            ),
        )
    )
    return sa.select(ConsentState.purpose_id, ConsentState.given_at, ConsentState.granted).where(
        ConsentState.subject_id.in_(same_person),
        ConsentState.purpose_id.in_(sa.bindparam("purpose_ids", expanding=True)),
    )


def _check_policy_version(session: Session, context: ConsentContext, number: int) -> PolicyRef:
    """The current version, if that is what the person saw; otherwise 404 or 409."""
    document_key = context.document_key
    if context.current is None:
        raise PolicyVersionNotCurrent(
            f"property {context.property_key!r} has no published {document_key!r} in effect yet"
        )
    if context.current.number == number:
        return context.current
    exists = session.scalar(
        sa.select(sa.func.count()).where(
            PolicyVersion.document_id == context.document_id,
            PolicyVersion.number == number,
            PolicyVersion.status == VersionStatus.PUBLISHED,
        )
    )
    if not exists:
        raise UnknownPolicy(
            f"{document_key!r} has no published version {number}",
            errors=[FieldError("/policy_version", f"no published version {number}")],
        )
    raise PolicyVersionNotCurrent(
        f"version {number} of {document_key!r} is not current; "
        f"the current version is {context.current.number}: show it and ask again",
        errors=[FieldError("/policy_version", f"current version is {context.current.number}")],
    )


@functools.cache
def _register_key(dialect: str) -> sa.Executable:
    register: sa.Executable = (
        dialect_insert_for(dialect, table_of(SigningKeyRecord))
        .values({c: sa.bindparam(c) for c in ("kid", "public_x", "created_at")})
        .on_conflict_do_nothing(index_elements=["kid"])
    )
    return register


def _lock_subject(dialect: str) -> sa.Insert:
    """The subject's row, inserted or touched: its id, and the property's config_version.

    DO UPDATE (not DO NOTHING) so the statement always returns the id and, on PostgreSQL,
    locks the subject's row: concurrent writers of one chain queue here. It reads the
    property's config_version too, which confirms a cached consent context for free."""
    subjects = table_of(Subject)
    insert = dialect_insert_for(dialect, subjects).values(
        {c: sa.bindparam(c) for c in ("id", "property_id", "visitor_id", "created_at")}
    )
    config_version = (
        sa.select(Property.config_version)
        .where(Property.id == sa.bindparam("property_id"))
        .scalar_subquery()
    )
    locked: sa.Insert = insert.on_conflict_do_update(
        index_elements=["property_id", "visitor_id"],
        set_={"visitor_id": insert.excluded.visitor_id},
    ).returning(subjects.c.id, config_version)
    return locked


def _chain_head(_dialect: str) -> sa.Select[int, str]:
    return (
        sa.select(ConsentReceipt.seq, ConsentReceipt.jws_sha256)
        .where(ConsentReceipt.subject_id == sa.bindparam("subject_id"))
        .order_by(ConsentReceipt.seq.desc())
        .limit(1)
    )


def _insert_receipt(_dialect: str) -> sa.Insert:
    receipts = table_of(ConsentReceipt)
    return sa.insert(receipts).values({c.name: sa.bindparam(c.name) for c in receipts.c})


# A consent's statements, compiled once per dialect and run on the driver
# (``infra.driver_statements``): Core's bookkeeping cost more than some of the statements.
_LOCK_SUBJECT = DriverStatement(_lock_subject)
_CHAIN_HEAD = DriverStatement(_chain_head)
_INSERT_RECEIPT = DriverStatement(_insert_receipt)


# Every receipt of a property cites the same few versions: each URL quoted once.
_policy_url = functools.lru_cache(maxsize=256)(policy_url)


def _to_millis(moment: dt.datetime) -> dt.datetime:
    """Receipts state times to the millisecond; the row must say exactly what was signed."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
