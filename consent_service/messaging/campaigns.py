"""Policy-change notices by email: a campaign per material publication, list subscriptions,
and the signed links the messages carry.

Publishing a material version of a property's consent document starts a campaign in the
publish transaction: one ``email`` outbox row per customer with a known address who has not
unsubscribed from the ``policy-notices`` list, written by a single ``INSERT ... SELECT`` (no
per-customer round trip, so 100,000 customers take seconds, not minutes). The rows carry only
the campaign and the customer; the address is decrypted, and the message rendered, at send
time (``email_sender.py``). ``UNIQUE (campaign_id, identity_id)`` makes a second row for the
same customer impossible whatever happens.

Links are itsdangerous tokens signed with the app's secret key, each kind with its own salt:
an unsubscribe token (customer + list, no expiry: RFC 8058 links must keep working long after
the message was sent) and a preferences-page token (customer, accepted for months).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from http import HTTPStatus

import sqlalchemy as sa
from itsdangerous import BadData
from itsdangerous import URLSafeSerializer
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session

from consent_service.errors import ConsentServiceError
from consent_service.errors import InvalidUnsubscribeLink
from consent_service.infra.database import dialect_insert_for
from consent_service.infra.database import execute_core
from consent_service.messaging.outbox import enqueue_selected
from consent_service.messaging.outbox import redrive
from consent_service.models import EmailCampaign
from consent_service.models import EmailSubscription
from consent_service.models import Identity
from consent_service.models import OutboxMessage
from consent_service.models import OutboxStatus
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models.base import new_id
from consent_service.models.base import table_of

CHANNEL = "email"
POLICY_NOTICE = "policy-notice"  # the campaign kind
POLICY_NOTICES_LIST = "policy-notices"  # the mailing list a customer can leave
EVENT_TYPE = "email.policy-notice"
UNSUBSCRIBE_SALT = "consent-service/unsubscribe-link/v1"
PREFERENCES_SALT = "consent-service/preferences-link/v1"
PREFERENCES_MAX_AGE = dt.timedelta(days=180)
# Sign-in links to the preferences page (the rows and their claiming: self_service_access.py).
MAGIC_LINK_EVENT = "email.magic-link"
MAGIC_LINK_SALT = "consent-service/magic-link/v1"
MAGIC_LINK_LIFETIME = dt.timedelta(minutes=15)
NEWSLETTERS_LIST = "newsletters"
# The lists a customer can leave or join, and whether someone who never chose is on them:
# policy notices are information owed to customers (opt-out); newsletters are marketing
# (opt-in, never assumed).
EMAIL_LISTS: dict[str, bool] = {POLICY_NOTICES_LIST: True, NEWSLETTERS_LIST: False}


class InvalidLinkToken(ConsentServiceError):
    """A preferences link (in a policy-change email) that was tampered with, made with another
    key, or has expired. The preferences pages show it as a refused sign-in, so it is not a
    documented problem type (the unsubscribe link's counterpart, InvalidUnsubscribeLink, is)."""

    code = "invalid-link-token"
    title = "The link is not valid"
    status = HTTPStatus.BAD_REQUEST


# --- campaigns -------------------------------------------------------------------------------


def start_policy_campaign(
    session: Session,
    property_id: int,
    document_key: str,
    version: PolicyVersion,
    now: dt.datetime,
) -> EmailCampaign | None:
    """The notice campaign of a just-published version, or None when it needs none (not
    material, or not the document consent refers to). Call inside the publish transaction."""
    if not version.material:
        return None
    consent_document = session.scalar(
        sa.select(Property.consent_document_key).where(Property.id == property_id)
    )
    if document_key != consent_document:
        return None
    campaign = EmailCampaign(
        id=new_id(),
        property_id=property_id,
        kind=POLICY_NOTICE,
        policy_version_id=version.id,
        recipient_count=0,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    campaign.recipient_count = enqueue_recipients(session, campaign, now)
    session.flush()
    return campaign


def count_recipients(session: Session, property_id: int) -> int:
    """How many customers a policy notice of this property would go to now (what the
    admin's publish confirmation says beforehand); the same rule as the enqueue."""
    count = session.scalar(
        sa.select(sa.func.count()).select_from(table_of(Identity)).where(*_audience(property_id))
    )
    return int(count or 0)


def _audience(property_id: int) -> list[sa.ColumnElement[bool]]:
    """Customers of the property with an address who have not left the policy-notice list."""
    identities = table_of(Identity)
    subscriptions = table_of(EmailSubscription)
    unsubscribed = (
        sa.select(subscriptions.c.identity_id)
        .where(
            subscriptions.c.identity_id == identities.c.id,
            subscriptions.c.list_key == POLICY_NOTICES_LIST,
            subscriptions.c.subscribed.is_(False),
        )
        .exists()
    )
    return [
        identities.c.property_id == property_id,
        identities.c.email_ciphertext.is_not(None),
        ~unsubscribed,
    ]


def enqueue_recipients(session: Session, campaign: EmailCampaign, now: dt.datetime) -> int:
    """One pending email row per customer of the campaign's property with an address who
    has not left the list, in one set-based statement; returns how many were written.
    Customers who already have a row in this campaign are skipped, so it is safe to repeat."""
    outbox = table_of(OutboxMessage)
    identities = table_of(Identity)
    dialect = session.get_bind().dialect.name
    row_id: sa.ColumnElement[uuid.UUID]
    if dialect == "postgresql":
        row_id = sa.func.gen_random_uuid(type_=sa.Uuid)
    else:  # sa.Uuid is CHAR(32) hex on SQLite
        row_id = sa.func.lower(sa.func.hex(sa.func.randomblob(16)), type_=sa.Uuid)
    already = (
        sa.select(outbox.c.id)
        .where(outbox.c.campaign_id == campaign.id, outbox.c.identity_id == identities.c.id)
        .exists()
    )
    already_started = bool(
        session.scalar(sa.select(outbox.c.id).where(outbox.c.campaign_id == campaign.id).limit(1))
    )
    values = {
        "id": row_id,
        "property_id": campaign.property_id,
        "channel": CHANNEL,
        "campaign_id": campaign.id,
        "identity_id": identities.c.id,
        "event_type": EVENT_TYPE,
        "payload": json.dumps({"campaign": str(campaign.id)}, separators=(",", ":")),
    }
    mine = sa.select(sa.func.count()).where(outbox.c.campaign_id == campaign.id)
    result = enqueue_selected(
        session, values, [*_audience(campaign.property_id), ~already], now=now
    )
    if result.rowcount is not None and result.rowcount >= 0:
        return int(result.rowcount)
    # Some drivers do not report an INSERT ... SELECT's row count: count the campaign's rows
    # (the rows written now are all of them unless this is a repeat, which writes none).
    return 0 if already_started else int(session.scalar(mine) or 0)


@dataclasses.dataclass(frozen=True)
class CampaignProgress:
    campaign: EmailCampaign
    counts: dict[str, int]  # outbox status -> rows
    # (status, last error) -> rows, for rows that failed at least once
    failures: list[tuple[str, str, int]]
    retrying: int  # pending rows whose last attempt failed

    @property
    def queued(self) -> int:
        return self.counts.get(OutboxStatus.PENDING.value, 0)

    @property
    def sent(self) -> int:
        return self.counts.get(OutboxStatus.DELIVERED.value, 0)

    @property
    def failed(self) -> int:
        return self.counts.get(OutboxStatus.DEAD.value, 0)


def list_campaigns(session: Session, property_id: int | None = None) -> Sequence[EmailCampaign]:
    query = sa.select(EmailCampaign).order_by(EmailCampaign.created_at.desc())
    if property_id is not None:
        query = query.where(EmailCampaign.property_id == property_id)
    return session.scalars(query).all()


def get_campaign(session: Session, campaign_id: uuid.UUID) -> EmailCampaign | None:
    return session.get(EmailCampaign, campaign_id)


def campaign_progress(session: Session, campaign: EmailCampaign) -> CampaignProgress:
    outbox = table_of(OutboxMessage)
    mine = outbox.c.campaign_id == campaign.id
    counts = {
        str(status): int(count)
        for status, count in session.execute(
            sa.select(outbox.c.status, sa.func.count()).where(mine).group_by(outbox.c.status)
        )
    }
    failures = [
        (str(status), str(error), int(count))
        for status, error, count in session.execute(
            sa.select(outbox.c.status, outbox.c.last_error, sa.func.count())
            .where(mine, outbox.c.last_error.is_not(None))
            .group_by(outbox.c.status, outbox.c.last_error)
            .order_by(sa.func.count().desc())
        )
    ]
    retrying = sum(n for status, _, n in failures if status == OutboxStatus.PENDING.value)
    return CampaignProgress(campaign, counts, failures, retrying)


def retry_failed(session: Session, campaign: EmailCampaign, now: dt.datetime) -> int:
    """Give the campaign's failed (dead) messages a fresh set of attempts, due now. Same
    rows, so the same Message-IDs; customers who left the list since are skipped at send."""
    return redrive(session, campaign_id=campaign.id, now=now)


# --- subscriptions ---------------------------------------------------------------------------


def set_subscription(
    session: Session,
    identity_id: uuid.UUID,
    list_key: str,
    *,
    subscribed: bool,
    source: str,
    now: dt.datetime,
) -> bool:
    """Record a customer's choice for a list (idempotent); False if the customer is gone."""
    exists = session.scalar(sa.select(Identity.id).where(Identity.id == identity_id))
    if exists is None:
        return False
    table = table_of(EmailSubscription)
    insert = dialect_insert_for(session.get_bind().dialect.name, table).values(
        identity_id=identity_id,
        list_key=list_key,
        subscribed=subscribed,
        source=source,
        updated_at=now,
    )
    execute_core(
        session,
        insert.on_conflict_do_update(
            index_elements=[table.c.identity_id, table.c.list_key],
            set_={"subscribed": subscribed, "source": source, "updated_at": now},
        ),
    )
    return True


def subscriptions(session: Session, identity_id: uuid.UUID) -> dict[str, bool]:
    """Every list and whether the customer is on it (their choice, else the list's default)."""
    chosen = {
        key: subscribed
        for key, subscribed in session.execute(
            sa.select(EmailSubscription.list_key, EmailSubscription.subscribed).where(
                EmailSubscription.identity_id == identity_id
            )
        )
    }
    return {key: bool(chosen.get(key, default)) for key, default in EMAIL_LISTS.items()}


# --- signed link tokens ----------------------------------------------------------------------


def unsubscribe_token(secret_key: str, identity_id: uuid.UUID, list_key: str) -> str:
    """An opaque token naming the customer and the list (RFC 8058 §3); it does not expire."""
    return URLSafeSerializer(secret_key, salt=UNSUBSCRIBE_SALT).dumps(
        {"i": identity_id.hex, "l": list_key}
    )


def verify_unsubscribe_token(secret_key: str, token: str) -> tuple[uuid.UUID, str]:
    try:
        data = URLSafeSerializer(secret_key, salt=UNSUBSCRIBE_SALT).loads(token)
        return uuid.UUID(hex=data["i"]), str(data["l"])
    except (BadData, KeyError, TypeError, ValueError):
        raise InvalidUnsubscribeLink("the unsubscribe link is not valid") from None


def magic_link_token(secret_key: str, link_id: uuid.UUID) -> str:
    """Made when the email is built: the outbox row holds only the link's id, no secret."""
    return str(URLSafeTimedSerializer(secret_key, salt=MAGIC_LINK_SALT).dumps(link_id.hex))


def preferences_token(secret_key: str, identity_id: uuid.UUID) -> str:
    """A token for the customer's self-service preferences page (timestamped)."""
    return URLSafeTimedSerializer(secret_key, salt=PREFERENCES_SALT).dumps({"i": identity_id.hex})


def verify_preferences_token(
    secret_key: str, token: str, *, max_age: dt.timedelta = PREFERENCES_MAX_AGE
) -> uuid.UUID:
    """The customer a preferences link was made for, or InvalidLinkToken."""
    try:
        data = URLSafeTimedSerializer(secret_key, salt=PREFERENCES_SALT).loads(
            token, max_age=int(max_age.total_seconds())
        )
        return uuid.UUID(hex=data["i"])
    except (BadData, KeyError, TypeError, ValueError):
        raise InvalidLinkToken("the preferences link is not valid or has expired") from None
