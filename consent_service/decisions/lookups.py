"""Consent look-ups for integrations: one subject or ten thousand, in a constant number of
queries, each answer made by :func:`consent_service.decisions.rule.decide`.

A subject is named by reference: ``visitor:<uuid>`` (one browser), ``customer:<ref>`` or
``email:<address>`` (a known customer: their most recent choice on any linked browser wins),
or ``subject:<uuid>`` (the id receipts carry).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.decisions.rule import Decision
from consent_service.decisions.rule import EarlierChoice
from consent_service.decisions.rule import RecordedChoice
from consent_service.decisions.rule import decide
from consent_service.errors import FieldError
from consent_service.errors import SubjectNotAccessible
from consent_service.errors import UnknownPurpose
from consent_service.infra.driver_statements import DriverStatement
from consent_service.infra.driver_statements import in_list
from consent_service.infra.pii import Vault
from consent_service.integrations.subject_refs import UUID_KINDS
from consent_service.integrations.subject_refs import SubjectRef
from consent_service.jurisdictions.rulebook import jurisdiction_by_code
from consent_service.jurisdictions.rules import STRICTEST
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.models import ConsentState
from consent_service.models import Identity
from consent_service.models import Property
from consent_service.models import Subject
from consent_service.models.base import table_of
from consent_service.properties.jurisdiction_overrides import apply_overrides
from consent_service.properties.lookup import ConsentContext
from consent_service.properties.lookup import OfferedPurpose
from consent_service.properties.lookup import PurposeFacts


def offered_purposes(
    context: ConsentContext, keys: Sequence[str], pointer: str
) -> list[OfferedPurpose]:
    by_key = {p.key: p for p in context.purposes}
    unknown = [(i, key) for i, key in enumerate(keys) if key not in by_key]
    if unknown:
        raise UnknownPurpose(
            f"property {context.property_key!r} offers no purpose {unknown[0][1]!r}",
            errors=[
                FieldError(f"{pointer}/{i}" if pointer else "/purpose", "not offered")
                for i, _ in unknown
            ],
        )
    return [by_key[key] for key in keys]


class Answer(NamedTuple):
    ref: SubjectRef
    decision: Decision
    # How the access log names the subject: an email only by its blind index, never itself.
    log_label: str


def look_up(
    session: Session,
    context: ConsentContext,
    refs: Sequence[SubjectRef],
    purposes: Sequence[OfferedPurpose],
    *,
    vault: Vault | None,
    now: dt.datetime,
    live_gpc: bool = False,
) -> list[Answer]:
    """Decisions for every subject x purpose, subject-major, from the state projection.

    One query per kind of reference present (at most four), whatever the number of subjects.
    ``subject:`` references that are not this property's are refused as a whole
    (SubjectNotAccessible), without saying whether they exist elsewhere. ``live_gpc``: the
    request the asker is serving carries GPC, so it applies to every subject asked about.
    """
    answers, _ = look_up_with_version(
        session, context, refs, purposes, vault=vault, now=now, live_gpc=live_gpc
    )
    return answers


def look_up_with_version(
    session: Session,
    context: ConsentContext,
    refs: Sequence[SubjectRef],
    purposes: Sequence[OfferedPurpose],
    *,
    vault: Vault | None,
    now: dt.datetime,
    live_gpc: bool = False,
) -> tuple[list[Answer], int | None]:
    """:func:`look_up`, and the property's ``config_version`` as the same statements read it
    (None: the property is gone), so that a cached ``context`` can be confirmed for free."""
    purpose_ids = [p.id for p in purposes]
    facts = [(p.id, p.facts, p.changed_in) for p in purposes]
    # In the order of ``refs`` (a dict keyed by the refs would hash each twice).
    lookup_keys: list[str] = []
    keys_by_kind: dict[str, set[str]] = {}
    indexers: dict[str, Callable[[str], str] | None] = {}
    for kind, value in refs:
        if kind not in indexers:
            indexers[kind] = _indexer(kind, context, vault)
            keys_by_kind[kind] = set()
        index = indexers[kind]
        key = value if index is None else index(value)
        lookup_keys.append(key)
        keys_by_kind[kind].add(key)
    rows_by_ref: dict[tuple[str, str], list[Sequence[Any]]] = {}
    version: int | None = None
    for kind, keys in keys_by_kind.items():
        found_keys: set[str] = set()
        params: dict[str, object] = {
            "property_id": context.property_id,
            "keys": [uuid.UUID(k) for k in keys] if kind in UUID_KINDS else list(keys),
            "purpose_ids": purpose_ids,
        }
        for row in _state_rows(session, kind, params):
            if row[KEY] is None:  # the property's own row
                version = row[VERSION]
                continue
            key = str(row[KEY])
            found_keys.add(key)
            if row[PURPOSE] is not None:
                rows_by_ref.setdefault((kind, key), []).append(row)
        if kind == "customer":
            _legacy_customers(session, refs, lookup_keys, found_keys, params, rows_by_ref)
        if kind == "subject" and found_keys != keys:
            raise SubjectNotAccessible(
                "a subject: reference does not name a subject of this property"
            )
        _rows_beyond_the_asked(session, context, kind, found_keys, params, rows_by_ref, purpose_ids)
    answers: list[Answer] = []
    categories = {p.id: p.opt_out_categories for p in context.purposes}
    judge = _Judge(facts, now, context.overrides, categories=categories, live_gpc=live_gpc)
    for ref, key in zip(refs, lookup_keys, strict=True):
        label = log_label(ref.kind, key)
        states = rows_by_ref.get((ref.kind, key)) or rows_by_ref.get((ref.kind, ref.value), [])
        answers.extend([Answer(ref, d, label) for d in judge.decisions(states)])
    return answers, version


def log_label(kind: str, key: str) -> str:
    """How the access log names a subject looked up by ``kind`` and its look-up key: emails
    and customers only by their blind index's prefix, never by themselves. Erasure computes
    the labels it removes here too, so the two can never drift apart."""
    return f"{kind}#{key[:16]}" if kind in INDEXED_KINDS else f"{kind}:{key}"


def _legacy_customers(
    session: Session,
    refs: Sequence[SubjectRef],
    lookup_keys: Sequence[str],
    found_keys: set[str],
    params: dict[str, object],
    rows_by_ref: dict[tuple[str, str], list[Sequence[Any]]],
) -> None:
    """Customers not found by blind index, looked for by the plain reference an earlier
    release stored (until ``keystore convert`` ran): one more indexed query, only when some
    are missing, so an unconverted customer is never answered as a stranger."""
    missing = list(  # without repeats: each key is a row of the statement's list
        dict.fromkeys(
            r.value
            for r, k in zip(refs, lookup_keys, strict=True)
            if r.kind == "customer" and k not in found_keys
        )
    )
    if not missing:
        return
    for row in _state_rows(session, "customer_legacy", {**params, "keys": missing}):
        if row[KEY] is not None and row[PURPOSE] is not None:
            rows_by_ref.setdefault(("customer", str(row[KEY])), []).append(row)


class _Judge:
    """Applies :func:`decide` to many subjects, once per distinct situation.

    What ``decide`` concludes depends only on the purpose (and so the last material version
    that touched it), the jurisdiction, the GPC signals (recorded and live), whether a choice
    exists and was granted, and whether it has lapsed or predates that material version; ten
    thousand subjects fall into a few dozen such situations. Each situation is decided once
    and each subject's answer then carries its own receipt. State rows are read by position
    (see VERSION ... EXPIRES): a Row's attribute access costs thirty times an index.
    """

    def __init__(
        self,
        purposes: Sequence[tuple[int, PurposeFacts, int | None]],
        now: dt.datetime,
        overrides: Mapping[str, Mapping[str, object]],
        *,
        categories: Mapping[int, frozenset[str]],
        live_gpc: bool = False,
    ) -> None:
        self._overrides = overrides
        self._categories = categories  # every offered purpose's opt-out categories, by id
        self._purposes = purposes
        self._now = now
        self._naive_now = now.astimezone(dt.UTC).replace(tzinfo=None)  # as rows hold times
        self._live_gpc = live_gpc
        self._jurisdictions: dict[str, Jurisdiction] = {}
        self._decided: dict[tuple[object, ...], Decision] = {}
        self._strangers: list[Decision] | None = None

    def decisions(self, states: list[Sequence[Any]]) -> list[Decision]:
        if not states:
            # Nobody on record: the same answers for every such subject.
            if self._strangers is None:
                self._strangers = [
                    self._decide(facts, changed_in, None, None, False)
                    for _, facts, changed_in in self._purposes
                ]
            return self._strangers
        # A customer's browsers each have their own state; the most recent choice wins, and
        # the most recent receipt anywhere (a GPC one included) says whether GPC is on record.
        latest_by_purpose: dict[int, Sequence[Any]] = {}
        latest = states[0]
        for state in states:
            held = latest_by_purpose.get(state[PURPOSE])
            if held is None or state[GIVEN] > held[GIVEN]:
                latest_by_purpose[state[PURPOSE]] = state
            if state[GIVEN] > latest[GIVEN]:
                latest = state
        code = latest[JURISDICTION]
        gpc_on_record = bool(latest[GPC])
        earlier: EarlierChoice | None = None
        decisions = []
        for purpose_id, facts, changed_in in self._purposes:
            own = latest_by_purpose.get(purpose_id)
            if own is None and earlier is None:
                earlier = self._earlier(latest, latest_by_purpose.values())
            decisions.append(self._decide(facts, changed_in, code, own, gpc_on_record, earlier))
        return decisions

    def _earlier(self, latest: Sequence[Any], states: Iterable[Sequence[Any]]) -> EarlierChoice:
        """What the subject's choices say about a purpose none of them answered."""
        refused: set[str] = set()
        for state in states:
            if not state[GRANTED]:
                refused.update(self._categories.get(state[PURPOSE], ()))
        return EarlierChoice(latest[POLICY], frozenset(refused))

    def _decide(
        self,
        facts: PurposeFacts,
        changed_in: int | None,
        code: str | None,
        state: Sequence[Any] | None,
        gpc: bool,
        earlier: EarlierChoice | None = None,
    ) -> Decision:
        # The purpose's key fixes its last material version too (one per purpose per judge).
        if state is None:
            situation: tuple[object, ...] = (facts.key, code, gpc)
            if earlier is not None:
                situation += (
                    changed_in is not None and earlier.policy_version < changed_in,
                    not facts.opt_out_categories.isdisjoint(earlier.refused_categories),
                )
        else:
            situation = (
                facts.key,
                code,
                gpc,
                state[GRANTED],
                state[GPC],
                state[EXPIRES] <= self._naive_now,
                changed_in is not None and state[POLICY] < changed_in,
            )
        decided = self._decided.get(situation)
        if decided is None:
            decided = decide(
                facts,
                self._jurisdiction(code),
                _choice(state),
                last_material_version=changed_in,
                gpc_on_record=gpc,
                now=self._now,
                live_gpc=self._live_gpc,
                earlier=earlier,
            )
            self._decided[situation] = decided
        if state is None or decided.receipt_id is None:
            return decided  # no record behind the answer, so nothing subject-specific in it
        return Decision(
            decided.allowed,
            decided.reason,
            decided.purpose,
            decided.jurisdiction,
            _uuid_text(state[RECEIPT]),
            state[POLICY],
            state[EXPIRES].replace(tzinfo=dt.UTC),
        )

    def _jurisdiction(self, code: str | None) -> Jurisdiction:
        if code is None:
            return STRICTEST
        if code not in self._jurisdictions:
            self._jurisdictions[code] = apply_overrides(
                jurisdiction_by_code(code, on=self._now.date()), self._overrides
            )
        return self._jurisdictions[code]


INDEXED_KINDS = ("email", "customer")


def _rows_beyond_the_asked(
    session: Session,
    context: ConsentContext,
    kind: str,
    found_keys: set[str],
    params: dict[str, object],
    rows_by_ref: dict[tuple[str, str], list[Sequence[Any]]],
    purpose_ids: Sequence[int],
) -> None:
    """Add the other purposes' state rows of the subjects that have none for some asked
    purpose (one added since they chose): their latest choice says under which law, which
    policy version and with which opt-outs it was made, and so how the purpose is judged
    (``EarlierChoice``). One more query, and only then: everyone else has a row per purpose."""
    asked = frozenset(purpose_ids)
    others = [p.id for p in context.purposes if p.id not in asked]
    if not others or not found_keys:
        return
    # A visitor or subject has at most one row per purpose; a customer's browsers have several,
    # so only where they have as many rows as purposes asked are their purposes counted.
    one_subject = kind in ("visitor", "subject")
    lacking = []
    for key in found_keys:
        rows = rows_by_ref.get((kind, key), ())
        if len(rows) < len(asked) or (
            not one_subject and len(asked) > 1 and len({row[PURPOSE] for row in rows}) < len(asked)
        ):
            lacking.append(key)
    if not lacking:
        return
    keys = [uuid.UUID(k) for k in lacking] if kind in UUID_KINDS else lacking
    for row in _state_rows(session, kind, {**params, "keys": keys, "purpose_ids": others}):
        if row[KEY] is not None and row[PURPOSE] is not None:
            rows_by_ref.setdefault((kind, str(row[KEY])), []).append(row)


def _indexer(
    kind: str, context: ConsentContext, vault: Vault | None
) -> Callable[[str], str] | None:
    """How references of ``kind`` become look-up keys: by blind index (emails, customers:
    their value is already normalised), or as they are (None)."""
    if kind not in INDEXED_KINDS:
        return None
    if vault is None:
        raise ValueError(f"looking subjects up by {kind} needs the vault's index key")
    return vault.indexer(context.property_id, kind)


# Positions of the columns of a states row (see _states_query), which is read by position.
VERSION, KEY, PURPOSE, GRANTED, RECEIPT, POLICY, JURISDICTION, GPC, GIVEN, EXPIRES = range(10)


def _key_column(kind: str) -> Any:
    """The column a reference of ``kind`` names its subjects by."""
    return {
        "visitor": Subject.visitor_id,
        "subject": Subject.id,
        "customer": Identity.customer_ref_index,
        # A row an earlier release wrote, not yet converted, is named by its plain reference.
        "customer_legacy": Identity.customer_ref,
        "email": Identity.email_index,
        "identity": Subject.identity_id,
    }[kind]


def _states_query(kind: str, dialect: str) -> sa.CompoundSelect[Any]:
    """The named subjects' state rows for the asked-for purposes, after the property's own
    row, which carries its ``config_version`` (and no key: there is always one, so nobody
    found at all is told from a property that is gone). A subject without any state yields
    one row of NULLs but its key, so ``subject:`` references can be told from strangers.

    A UNION ALL of the two, not the subjects outer-joined to the property's row: SQLite
    materialised that join first (42 ms for 10,000 customers, 35 ms as two parts)."""
    key_column = _key_column(kind)
    properties, subjects, identities = table_of(Property), table_of(Subject), table_of(Identity)
    named: Any = subjects
    found = sa.and_(subjects.c.property_id == sa.bindparam("property_id"))
    if kind in ("customer", "customer_legacy", "email"):
        # Identity's own property_id too: its unique indexes lead with it, and without it
        # PostgreSQL scans every identity (measured: 20 ms at 100k customers, 6 ms at 10k).
        named = subjects.join(identities, identities.c.id == subjects.c.identity_id)
        found = sa.and_(
            found,
            identities.c.property_id == sa.bindparam("property_id"),
            in_list(key_column, "keys", dialect),
        )
    else:
        found = sa.and_(found, in_list(key_column, "keys", dialect))
    # Only the asked-for purposes' rows: every receipt writes a row for each offered purpose,
    # so they carry the latest receipt's jurisdiction and GPC flag too. (A purpose added after
    # a subject's last receipt has no row: _rows_beyond_the_asked reads the others then.)
    asked = sa.and_(
        ConsentState.subject_id == subjects.c.id,
        in_list(ConsentState.purpose_id, "purpose_ids", dialect),
    )
    state_columns = (
        ConsentState.purpose_id,
        ConsentState.granted,
        # As text (no UUID object per row): formatted once, in _uuid_text.
        sa.cast(ConsentState.receipt_id, sa.String).label("receipt_id"),
        ConsentState.policy_version,
        ConsentState.jurisdiction,
        ConsentState.gpc,
        # Naive UTC, as stored: no Python-level conversion per row (made aware only for
        # the answers that carry one, in _Judge).
        sa.type_coerce(ConsentState.given_at, sa.DateTime()).label("given_at"),
        sa.type_coerce(ConsentState.expires_at, sa.DateTime()).label("expires_at"),
    )
    property_row = sa.select(
        properties.c.config_version,
        sa.cast(sa.null(), key_column.type).label("key"),
        *(sa.cast(sa.null(), column.type).label(column.name) for column in state_columns),
    ).where(properties.c.id == sa.bindparam("property_id"))
    subjects_rows = (
        sa.select(sa.cast(sa.null(), sa.Integer()), key_column.label("key"), *state_columns)
        .select_from(named.outerjoin(ConsentState, asked))
        .where(found)
    )
    return sa.union_all(property_row, subjects_rows)


# One statement per kind of reference, run on the driver (``infra.driver_statements``).
_STATES = {
    kind: DriverStatement(
        functools.partial(_states_query, kind),
        lists={"keys": _key_column(kind).type, "purpose_ids": sa.Integer()},
    )
    for kind in ("visitor", "subject", "customer", "customer_legacy", "email", "identity")
}


def _state_rows(session: Session, kind: str, params: Mapping[str, object]) -> list[Sequence[Any]]:
    """The rows of :func:`_states_query` for ``kind``, read by position (VERSION ... EXPIRES)."""
    return _STATES[kind].rows(session, params)


def _uuid_text(value: object) -> str:
    """A UUID's canonical text from what the driver returns: SQLite's 32 hex digits, or
    PostgreSQL's UUID object."""
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(value)


def _choice(state: Sequence[Any] | None) -> RecordedChoice | None:
    if state is None:
        return None
    return RecordedChoice(
        granted=state[GRANTED],
        receipt_id=_uuid_text(state[RECEIPT]),
        policy_version=state[POLICY],
        given_at=state[GIVEN].replace(tzinfo=dt.UTC),
        expires_at=state[EXPIRES].replace(tzinfo=dt.UTC),
        gpc=state[GPC],
    )
