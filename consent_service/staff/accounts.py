"""Admin accounts: passwords (argon2id) with lock-out, TOTP second factor, roles, and the
changes an admin makes to accounts, each recorded in the audit log in the same transaction.

Sign-in answers the same way, after the same work, whether the email is unknown, the password
wrong, the account locked or disabled: a caller learns nothing about which accounts exist.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hmac
import secrets
import uuid
from http import HTTPStatus

import pyotp
import segno
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from consent_service.errors import ConsentServiceError
from consent_service.infra.audit import Actor
from consent_service.infra.audit import record_as
from consent_service.infra.pii import Vault
from consent_service.infra.pii import is_plausible_email
from consent_service.infra.pii import normalise_email
from consent_service.infra.sessions import revoke_admin_sessions
from consent_service.models import AdminRole
from consent_service.models import AdminUser
from consent_service.models.base import utcnow

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MAX_FAILED_ATTEMPTS = 5
LOCK_DURATION = dt.timedelta(minutes=15)
TOTP_ISSUER = "Consent service"
TOTP_STEP_SECONDS = 30
TOTP_WINDOW = 1  # steps either side of now: clocks drift, people type slowly
SIGN_IN_FAILED = (
    "The email or password is not right, or the account is locked for a while after too many "
    "failed attempts."
)
DEFAULT_HASHER = PasswordHasher()  # argon2id, the library's current recommended parameters


class AdminAccountError(ConsentServiceError):
    """A request about admin accounts that cannot be carried out; the message says why.

    Family of the admin's own refusals: the admin pages show them on the form (422) and the
    CLI prints them, while the public API never raises them, so neither this family nor its
    members is a documented problem type.
    """

    code = "admin-account-refused"
    title = "The admin account change was refused"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


class SignInFailed(AdminAccountError):
    def __init__(self) -> None:
        super().__init__(SIGN_IN_FAILED)


class WeakPassword(AdminAccountError):
    pass


class EmailTaken(AdminAccountError):
    pass


class UnknownAdminUser(AdminAccountError):
    pass


class LastAdmin(AdminAccountError):
    pass


class Permission(enum.StrEnum):
    VIEW = "view"  # see the admin and its content
    EDIT = "edit"  # edit drafts, banner texts, purposes, vendors
    PUBLISH = "publish"  # publish policy versions, start campaigns
    MANAGE_USERS = "manage_users"
    MANAGE_INTEGRATIONS = "manage_integrations"  # API keys and webhook endpoints
    VIEW_AUDIT = "view_audit"


ROLE_ORDER = (AdminRole.VIEWER, AdminRole.EDITOR, AdminRole.PUBLISHER, AdminRole.ADMIN)
# The least role that holds each permission; every higher role holds it too.
MINIMUM_ROLE: dict[Permission, AdminRole] = {
    Permission.VIEW: AdminRole.VIEWER,
    Permission.EDIT: AdminRole.EDITOR,
    Permission.PUBLISH: AdminRole.PUBLISHER,
    Permission.MANAGE_USERS: AdminRole.ADMIN,
    Permission.MANAGE_INTEGRATIONS: AdminRole.ADMIN,
    Permission.VIEW_AUDIT: AdminRole.ADMIN,
}
TOTP_REQUIRED_FROM = AdminRole.PUBLISHER


def parse_role(value: str) -> AdminRole:
    try:
        return AdminRole(value.strip().lower())
    except ValueError:
        names = ", ".join(role.value for role in ROLE_ORDER)
        raise AdminAccountError(f"role must be one of: {names}") from None


def can(role: AdminRole | str, permission: Permission) -> bool:
    rank = ROLE_ORDER.index(AdminRole(role))
    return rank >= ROLE_ORDER.index(MINIMUM_ROLE[permission])


def totp_required(role: AdminRole | str) -> bool:
    return ROLE_ORDER.index(AdminRole(role)) >= ROLE_ORDER.index(TOTP_REQUIRED_FROM)


def needs_enrolment(user: AdminUser) -> bool:
    """A role that requires a second factor, without one yet: enrol before anything else."""
    return totp_required(user.role) and user.totp_enrolled_at is None


def check_password_strength(password: str, *, email: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    if len(set(password)) < 4:
        raise WeakPassword("the password repeats too few different characters")
    if email and normalise_email(email).split("@")[0] in password.lower():
        raise WeakPassword("the password must not contain the email's name")


def generate_password() -> str:
    """A random password of about 128 bits, easy to copy (URL-safe characters)."""
    return secrets.token_urlsafe(16) + "-" + secrets.token_urlsafe(6)


def snapshot(user: AdminUser) -> dict[str, object]:
    """What the audit log keeps of an account: never the hash or the second factor's secret."""
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "disabled": user.disabled_at is not None,
        "totp_enrolled": user.totp_enrolled_at is not None,
    }


def get_user(session: Session, user_id: uuid.UUID) -> AdminUser | None:
    return session.get(AdminUser, user_id)


def find_user(session: Session, email: str) -> AdminUser | None:
    return session.scalar(sa.select(AdminUser).where(AdminUser.email == normalise_email(email)))


def require_user(session: Session, email: str) -> AdminUser:
    user = find_user(session, email)
    if user is None:
        raise UnknownAdminUser(f"no admin user has the email {normalise_email(email)!r}")
    return user


def list_users(session: Session) -> list[AdminUser]:
    return list(session.scalars(sa.select(AdminUser).order_by(AdminUser.email)))


def create_user(
    session: Session,
    who: Actor,
    *,
    email: str,
    role: AdminRole | str,
    password: str,
    name: str = "",
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> AdminUser:
    address = normalise_email(email)
    if not is_plausible_email(address):
        raise AdminAccountError(f"{email!r} is not an email address")
    role = parse_role(str(role))
    check_password_strength(password, email=address)
    if find_user(session, address) is not None:
        raise EmailTaken(f"an admin user with the email {address!r} exists already")
    user = AdminUser(
        id=uuid.uuid4(),
        email=address,
        name=name.strip()[:200],
        role=role.value,
        password_hash=hasher.hash(password),
        failed_attempts=0,
    )
    session.add(user)
    session.flush()
    _audit(session, who, "admin_user.create", user, None, snapshot(user))
    return user


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    now: dt.datetime,
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> AdminUser:
    """The account behind a correct email and password, or :class:`SignInFailed`.

    Every path verifies one argon2 hash. A wrong password counts as a failed attempt; the
    fifth locks the account for 15 minutes, during which even the right password fails.
    A correct password resets the count and upgrades a hash made with older parameters.
    """
    user = find_user(session, email)
    if user is None:
        _burn(hasher, password)
        raise SignInFailed()
    correct = _verify(hasher, user.password_hash, password[:MAX_PASSWORD_LENGTH])
    if user.disabled_at is not None or _locked(user, now):
        raise SignInFailed()
    if not correct:
        register_failure(user, now=now)
        raise SignInFailed()
    user.failed_attempts = 0
    user.locked_until = None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


def register_failure(user: AdminUser, *, now: dt.datetime) -> None:
    """Count a wrong password or code; lock the account when the count reaches the limit."""
    user.failed_attempts = (user.failed_attempts or 0) + 1
    if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
        user.locked_until = now + LOCK_DURATION
        user.failed_attempts = 0


def can_sign_in(user: AdminUser, *, now: dt.datetime) -> bool:
    return user.disabled_at is None and not _locked(user, now)


def complete_sign_in(user: AdminUser, *, now: dt.datetime) -> None:
    user.failed_attempts = 0
    user.locked_until = None
    user.last_sign_in_at = now


@dataclasses.dataclass(frozen=True)
class Enrolment:
    """A new second factor to show once: the secret (for manual entry), the URI and its QR."""

    secret: str = dataclasses.field(repr=False)
    # Each of these carries the secret too.
    provisioning_uri: str = dataclasses.field(repr=False)
    qr_svg: str = dataclasses.field(repr=False)
    qr_data_uri: str = dataclasses.field(repr=False)  # the same SVG, for an <img>


def new_enrolment(user: AdminUser, *, issuer: str = TOTP_ISSUER) -> Enrolment:
    return enrolment_for(user, pyotp.random_base32(), issuer=issuer)


def enrolment_for(user: AdminUser, secret: str, *, issuer: str = TOTP_ISSUER) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
    qr = segno.make(uri, error="m")
    svg = qr.svg_inline(scale=4, dark="#000", light="#fff", title="TOTP enrolment QR code")
    data_uri = qr.svg_data_uri(scale=4, dark="#000", light="#fff")
    return Enrolment(secret=secret, provisioning_uri=uri, qr_svg=svg, qr_data_uri=data_uri)


def confirm_enrolment(
    session: Session,
    vault: Vault,
    who: Actor,
    user: AdminUser,
    secret: str,
    code: str,
    *,
    now: dt.datetime,
    keep_session: str | None = None,
) -> bool:
    """Store ``secret`` as the user's second factor if ``code`` proves the app holds it; every
    session of the account but ``keep_session`` (the one enrolling) ends."""
    step = _matching_step(secret, code, now)
    if step is None:
        register_failure(user, now=now)
        return False
    before = snapshot(user)
    user.totp_secret_ciphertext = vault.cipher.encrypt(secret, context=_totp_context(user))
    user.totp_enrolled_at = now
    user.totp_last_step = step  # the code that confirmed enrolment is used up
    revoke_admin_sessions(session, user.id, now, keep=keep_session)
    _audit(session, who, "admin_user.enrol_totp", user, before, snapshot(user))
    return True


def verify_totp(
    session: Session, vault: Vault, user: AdminUser, code: str, *, now: dt.datetime
) -> bool:
    """Whether ``code`` is the user's current code (±1 step) and has not been used before.

    The step is claimed with one conditional UPDATE, so two requests racing with the same code
    cannot both succeed. A wrong or replayed code counts as a failed attempt.
    """
    if user.totp_secret_ciphertext is None or not can_sign_in(user, now=now):
        return False
    secret = vault.cipher.decrypt(user.totp_secret_ciphertext, context=_totp_context(user))
    step = _matching_step(secret, code, now)
    if step is not None and _claim_step(session, user, step):
        return True
    register_failure(user, now=now)
    return False


def change_role(session: Session, who: Actor, user: AdminUser, role: AdminRole | str) -> AdminUser:
    new_role = parse_role(str(role))
    if new_role.value == user.role:
        return user
    if user.role == AdminRole.ADMIN:
        _keep_an_admin(session, user)
    before = snapshot(user)
    user.role = new_role.value
    revoke_admin_sessions(session, user.id, utcnow())
    _audit(session, who, "admin_user.change_role", user, before, snapshot(user))
    return user


def disable_user(session: Session, who: Actor, user: AdminUser, *, now: dt.datetime) -> AdminUser:
    if user.disabled_at is not None:
        return user
    if user.role == AdminRole.ADMIN:
        _keep_an_admin(session, user)
    before = snapshot(user)
    user.disabled_at = now
    revoke_admin_sessions(session, user.id, now)
    _audit(session, who, "admin_user.disable", user, before, snapshot(user))
    return user


def reset_totp(session: Session, who: Actor, user: AdminUser) -> AdminUser:
    """Remove the second factor: the user enrols a new one at their next sign-in."""
    before = snapshot(user)
    user.totp_secret_ciphertext = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    revoke_admin_sessions(session, user.id, utcnow())
    _audit(session, who, "admin_user.reset_totp", user, before, snapshot(user))
    return user


def set_password(
    session: Session,
    who: Actor,
    user: AdminUser,
    password: str,
    *,
    hasher: PasswordHasher = DEFAULT_HASHER,
    keep_session: str | None = None,
) -> AdminUser:
    """A new password; every session of the account but ``keep_session`` ends."""
    check_password_strength(password, email=user.email)
    before = snapshot(user)
    user.password_hash = hasher.hash(password)
    user.failed_attempts = 0
    user.locked_until = None
    revoke_admin_sessions(session, user.id, utcnow(), keep=keep_session)
    after = {**snapshot(user), "password_changed": True}
    _audit(session, who, "admin_user.set_password", user, before, after)
    return user


def change_own_password(
    session: Session,
    who: Actor,
    user: AdminUser,
    current: str,
    new: str,
    *,
    hasher: PasswordHasher = DEFAULT_HASHER,
    keep_session: str | None = None,
) -> AdminUser:
    """Change one's own password: this session (``keep_session``) carries on, the others end."""
    if not _verify(hasher, user.password_hash, current[:MAX_PASSWORD_LENGTH]):
        raise AdminAccountError("the current password is not right")
    if hmac.compare_digest(current.encode(), new.encode()):
        raise WeakPassword("the new password must differ from the current one")
    return set_password(session, who, user, new, hasher=hasher, keep_session=keep_session)


def _audit(
    session: Session,
    who: Actor,
    action: str,
    user: AdminUser,
    before: dict[str, object] | None,
    after: dict[str, object] | None,
) -> None:
    record_as(
        session,
        who,
        action,
        target_type="admin_user",
        target_id=str(user.id),
        before=before,
        after=after,
    )


def _keep_an_admin(session: Session, leaving: AdminUser) -> None:
    others = session.scalar(
        sa.select(sa.func.count())
        .select_from(AdminUser)
        .where(
            AdminUser.role == AdminRole.ADMIN.value,
            AdminUser.disabled_at.is_(None),
            AdminUser.id != leaving.id,
        )
    )
    if not others:
        raise LastAdmin("this is the last enabled admin; make another admin first")


def _locked(user: AdminUser, now: dt.datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASHES: dict[int, str] = {}


def _burn(hasher: PasswordHasher, password: str) -> None:
    """Verify against a throw-away hash made with the same parameters: an unknown email costs
    what a known one does."""
    key = id(hasher)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
    _verify(hasher, _DUMMY_HASHES[key], password[:MAX_PASSWORD_LENGTH])


def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
    current = int(now.timestamp()) // TOTP_STEP_SECONDS
    matched = None
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected, code) and matched is None:
            matched = step
    return matched


def _claim_step(session: Session, user: AdminUser, step: int) -> bool:
    claimed = session.execute(
        sa.update(AdminUser)
        .where(
            AdminUser.id == user.id,
            sa.or_(AdminUser.totp_last_step.is_(None), AdminUser.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def _totp_context(user: AdminUser) -> str:
    return f"admin-totp:{user.id}"
