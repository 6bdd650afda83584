"""An integration's look-up, as one use case: the decisions for these subjects and purposes
(one or ten thousand), and the access-log entry that records them.

Answers are logged before they leave (``access_log.lookup_log``: buffered, or in the
request's own transaction); a log that cannot take them means no answer is given.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from consent_service.decisions.access_log import log_lookup
from consent_service.decisions.lookups import Answer
from consent_service.decisions.lookups import look_up_with_version
from consent_service.decisions.lookups import offered_purposes
from consent_service.errors import UnknownPurpose
from consent_service.infra.deferred_writes import DeferredWrites
from consent_service.infra.pii import Vault
from consent_service.integrations.subject_refs import SubjectRef
from consent_service.properties.context_cache import ContextCache


def answer_lookup(
    session: Session,
    contexts: ContextCache,
    log: DeferredWrites,
    *,
    property_key: str,
    refs: Sequence[SubjectRef],
    purpose_keys: Sequence[str],
    pointer: str,
    vault: Vault | None,
    api_key_id: uuid.UUID | None,
    request_id: str | None,
    now: dt.datetime,
    live_gpc: bool = False,
) -> list[Answer]:
    """Decisions for every subject x purpose, subject-major, logged to ``log`` (in the
    caller's transaction when it writes inline: the caller commits).

    ``contexts`` keeps each property's consent context, confirmed against the
    ``config_version`` the look-up's own statements read (an edit anywhere shows at once);
    ``pointer`` is where the purposes sit in the request, for the UnknownPurpose error
    (``""``: a single ``purpose``); ``live_gpc``: the shop passes on a ``Sec-GPC: 1`` of the
    request it is serving.
    """
    context, just_read = contexts.get(session, property_key, now=now)
    try:
        purposes = offered_purposes(context, purpose_keys, pointer)
    except UnknownPurpose:
        if just_read:
            raise
        # The purpose may have been added since this process read the property: refused
        # only if the property as it is now does not offer it either.
        context, just_read = contexts.load(session, property_key, now=now), True
        purposes = offered_purposes(context, purpose_keys, pointer)
    answers, version = look_up_with_version(
        session, context, refs, purposes, vault=vault, now=now, live_gpc=live_gpc
    )
    if not just_read and not contexts.is_current(context, version):
        # The property changed since this process read it: judge again by what it is now.
        context = contexts.load(session, property_key, now=now)
        purposes = offered_purposes(context, purpose_keys, pointer)
        answers, _ = look_up_with_version(
            session, context, refs, purposes, vault=vault, now=now, live_gpc=live_gpc
        )
    log_lookup(
        session,
        log,
        property_id=context.property_id,
        api_key_id=api_key_id,
        request_id=request_id,
        purposes=purpose_keys,
        answers=answers,
        now=now,
    )
    return answers
