"""``/preferences/``: a person's choices, email lists, receipts and data, server-rendered and
usable without JavaScript (every action is a plain form; the small script only adds checking
signatures in the browser)."""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from flask import redirect
from flask import request
from flask import url_for
from werkzeug.wrappers import Response

from consent_service.consent.receipts import ReoptinConfirmationRequired
from consent_service.errors import ConsentServiceError
from consent_service.errors import InternalError
from consent_service.errors import RateLimited
from consent_service.errors import ValidationFailed
from consent_service.extensions import committed
from consent_service.extensions import current_session
from consent_service.extensions import rate_limiter
from consent_service.extensions import receipt_issuer
from consent_service.extensions import settings
from consent_service.extensions import vault
from consent_service.infra.network import truncate_ip
from consent_service.infra.pii import UndecryptableData
from consent_service.infra.urls import policy_page_url
from consent_service.integrations.identity import customer_ref_of
from consent_service.integrations.identity import email_of
from consent_service.integrations.identity import remember_locale
from consent_service.messaging.campaigns import EMAIL_LISTS
from consent_service.messaging.campaigns import set_subscription
from consent_service.messaging.campaigns import subscriptions
from consent_service.models import Identity
from consent_service.models import Property
from consent_service.models import Subject
from consent_service.models.base import utcnow
from consent_service.preferences import bp
from consent_service.preferences.session import csrf_ok
from consent_service.preferences.session import current_access
from consent_service.preferences.session import end_session
from consent_service.preferences.session import reoptin_token
from consent_service.preferences.session import reoptin_token_ok
from consent_service.preferences.sign_in import notice_link_sign_in
from consent_service.preferences.sign_in import sign_in_page
from consent_service.preferences.view import chosen_locale
from consent_service.preferences.view import date
from consent_service.preferences.view import page_locale
from consent_service.preferences.view import render
from consent_service.preferences.view import text_locales
from consent_service.preferences.view import texts
from consent_service.self_service import proof as receipt_proof
from consent_service.self_service.access import Access
from consent_service.self_service.access import Via
from consent_service.self_service.access import request_confirmation_link
from consent_service.self_service.choices import PurposeChoice
from consent_service.self_service.choices import change_choices
from consent_service.self_service.choices import load_choices
from consent_service.self_service.erasure import deadline_for
from consent_service.self_service.erasure import erase
from consent_service.self_service.erasure_proof import download_token
from consent_service.self_service.proof import ReceiptLine
from consent_service.self_service.proof import receipt_history
from consent_service.web.request_ids import request_id
from consent_service.web.visitor_region import visitor_ip
from consent_service.web.visitor_region import visitor_region

HOME = "preferences.preferences_home"
REOPTIN_FIELD = "reoptin_confirmed"


def person_subjects(access: Access) -> list[uuid.UUID]:
    return receipt_proof.person_subjects(current_session(), access)


def needs_fresh_sign_in(access: Access) -> bool:
    """A policy notice's link lives for months and may be forwarded: it lets its holder see
    and change choices, but exporting or erasing takes a fresh single-use link."""
    return access.via is Via.NOTICE_LINK


def _gpc() -> bool:
    return request.headers.get("Sec-GPC", "").strip() == "1"


def _who(access: Access) -> str:
    """Who the page speaks for: a customer, a browser linked to a customer (its choices count
    for that account), or an anonymous browser."""
    t = texts(page_locale())
    identity_id = access.identity_id
    if identity_id is None and access.visitor_id is not None:
        identity_id = current_session().scalar(
            sa.select(Subject.identity_id).where(
                Subject.property_id == access.property_id,
                Subject.visitor_id == access.visitor_id,
            )
        )
        if identity_id is None:
            return t.signed_in_visitor
        return t.signed_in_linked_browser.format(who=_customer_label(identity_id))
    if identity_id is None:
        return t.signed_in_visitor
    return t.signed_in_customer.format(who=_customer_label(identity_id))


def _customer_label(identity_id: uuid.UUID) -> str:
    """Enough of the customer's email (or their reference) to recognise, not to harvest."""
    identity = current_session().get(Identity, identity_id)
    if identity is None:
        return "—"
    try:
        keys = vault().people.keys_of([identity.id])
        email = email_of(vault(), identity, keys=keys)
        customer_ref = customer_ref_of(vault(), identity, keys=keys)
    except UndecryptableData:
        email = customer_ref = None
    if email is not None:
        name, _, domain = email.partition("@")
        return f"{name[:1]}…@{domain}"
    return customer_ref or "—"


def _state_text(purpose: PurposeChoice, history: list[ReceiptLine], current_version: object) -> str:
    """``version`` is the policy the choice was made under, ``new_version`` the one in effect
    (a stale choice names both: the person is asked about the new one)."""
    t = texts(page_locale())
    given = next((r.issued_at for r in history if purpose.receipt_id == str(r.receipt_id)), None)
    return t[f"state_{purpose.reason.value}"].format(
        date=date(given),
        version=purpose.policy_version or "",
        new_version=current_version or "",
        until=date(purpose.expires_at),
    )


def _page(
    access: Access,
    *,
    status: int = 200,
    notices: list[tuple[str, str]] | None = None,
    **extra: object,
) -> Response:
    session = current_session()
    locale = page_locale()
    now = utcnow()
    page = load_choices(
        session,
        access,
        region=visitor_region().region,
        locale=locale,
        gpc=_gpc(),
        base_url=settings().base_url,
        now=now,
    )
    history = receipt_history(session, person_subjects(access))
    latest_code = history[-1].jurisdiction if history else "unknown"
    deadline = deadline_for(latest_code)
    base = settings().base_url
    return render(
        "page.html",
        status=status,
        notices=notices or [],
        locale=locale,
        direction=page.direction if page.locale.split("-")[0] == locale else "ltr",
        property_name=page.property_name,
        page=page,
        who=_who(access),
        lists=subscriptions(session, access.identity_id) if access.identity_id else None,
        history=history,
        purpose_names={p.key: p.name for p in page.purposes},
        state_text=lambda p: _state_text(p, history, page.policy.get("version")),
        languages=[(code, texts(code).language_name) for code in text_locales()],
        policy_url=lambda r: policy_page_url(
            base, page.property_key, r.document_key, r.policy_version
        ),
        jwks_url=f"{base}/.well-known/jwks.json",
        deadline=deadline,
        erase_due=deadline.due(now),
        needs_fresh_sign_in=needs_fresh_sign_in(access),
        **extra,
    )


@bp.get("/preferences/")
def preferences_home() -> Response:
    token = request.args.get("token")
    if token:  # the signed link in a policy-change email
        return notice_link_sign_in(token)
    access = current_access()
    if access is None:
        return sign_in_page()
    if access.identity_id is not None and request.args.get("lang") == page_locale():
        # The language they chose is the one we email them in, unless the shop does not
        # write in it (then the shop's default stays).
        with committed() as session, contextlib.suppress(ValidationFailed):
            remember_locale(session, access.identity_id, page_locale())
    t = texts(page_locale())
    notices = []
    notice = request.args.get("notice")
    if notice in ("saved", "withdrawn"):
        receipt = request.args.get("receipt", "")[:36]
        notices.append(("info", t[notice].format(receipt=receipt)))
    elif notice in ("emails_saved", "reoptin_cancelled"):
        notices.append(("info", t[notice]))
    return _page(access, notices=notices)


def signed_in(view: Callable[..., Response]) -> Callable[..., Response]:
    """``view(access, ...)`` for the signed-in person: without a session it asks to sign in;
    a form post without the form's CSRF token changes nothing."""

    @functools.wraps(view)
    def guarded(**kwargs: object) -> Response:
        access = current_access()
        t = texts(page_locale())
        if access is None:
            return sign_in_page(status=401, notices=[("error", t.session_expired)])
        if request.method == "POST" and not csrf_ok():
            return _page(access, status=400, notices=[("error", t.csrf)])
        return view(access, **kwargs)

    return guarded


@bp.post("/preferences/choices")
@signed_in
def preferences_save_choices(access: Access) -> Response:
    t = texts(page_locale())
    action = request.form.get("action")
    if action == "cancel_reoptin":  # the second step declined: the opt-out stands
        return redirect(url_for(HOME, notice="reoptin_cancelled", lang=chosen_locale()), code=303)
    chosen = None if action == "withdraw_all" else set(request.form.getlist("purpose"))
    confirmation = request.form.get(REOPTIN_FIELD)
    if confirmation is not None and (
        chosen is None or not reoptin_token_ok(access, confirmation, chosen)
    ):
        return _page(access, status=422, notices=[("error", t.reoptin_invalid)])
    try:
        with committed() as session:
            recorded = change_choices(
                session,
                access,
                chosen,
                issuer=receipt_issuer(),
                region=visitor_region().region,
                gpc=_gpc(),
                network=truncate_ip(visitor_ip()),
                # The form is this service's own page, proven by its CSRF token: no shop
                # origin applies (and a browser may send "Origin: null" for it).
                origin=None,
                now=utcnow(),
                reoptin_confirmed=confirmation is not None,
            )
    except InternalError:
        raise  # the service's own fault: logged, an opaque 500
    except ReoptinConfirmationRequired:
        assert chosen is not None  # withdrawing opts nobody back in
        return _reoptin_step(access, chosen)
    except ConsentServiceError as exc:
        return _page(access, status=int(exc.status), notices=[("error", exc.detail)])
    notice = "withdrawn" if recorded.payload["method"] == "withdrawal" else "saved"
    return redirect(
        url_for(HOME, notice=notice, receipt=str(recorded.receipt_id), lang=chosen_locale()),
        code=303,
    )


def _reoptin_step(access: Access, chosen: set[str]) -> Response:
    """The second step California asks before opting back in to the sale or sharing of
    personal information (11 CCR §7028): the same choices again, confirmed or cancelled."""
    prop = current_session().get(Property, access.property_id)
    return render(
        "reoptin.html",
        property_name=prop.name if prop else None,
        chosen=sorted(chosen),
        token=reoptin_token(access, chosen),
        field=REOPTIN_FIELD,
    )


@bp.post("/preferences/emails")
@signed_in
def preferences_save_emails(access: Access) -> Response:
    if access.identity_id is None:
        return _page(access, status=403)
    chosen = set(request.form.getlist("list"))
    now = utcnow()
    with committed() as session:
        for list_key in EMAIL_LISTS:
            set_subscription(
                session,
                access.identity_id,
                list_key,
                subscribed=list_key in chosen,
                source="preferences",
                now=now,
            )
    return redirect(url_for(HOME, notice="emails_saved", lang=chosen_locale()), code=303)


@bp.post("/preferences/confirm-by-email")
@signed_in
def preferences_confirm_by_email(access: Access) -> Response:
    t = texts(page_locale())
    limiter = rate_limiter()
    try:
        limiter.check(
            f"magic-link-customer:{access.identity_id}", settings().magic_link_rate_limit_address
        )
    except RateLimited as exc:
        minutes = max(1, exc.retry_after // 60)
        return _page(
            access, status=429, notices=[("error", t.rate_limited.format(minutes=minutes))]
        )
    with committed() as session:
        sent = request_confirmation_link(session, access, locale=page_locale(), now=utcnow())
    notice = t.confirmation_sent if sent else t.no_address
    return _page(access, notices=[("info" if sent else "error", notice)])


@bp.post("/preferences/erase")
@signed_in
def preferences_erase(access: Access) -> Response:
    t = texts(page_locale())
    if needs_fresh_sign_in(access):
        return _page(access, status=403, notices=[("error", t.fresh_sign_in_needed)])
    if request.form.get("confirm") != "yes":
        return _page(access, status=422, erase_error=t.erase_confirm_missing)
    prop = current_session().get(Property, access.property_id)
    with committed() as session:
        erasure = erase(
            session,
            access,
            issuer=receipt_issuer(),
            vault=vault(),
            network=truncate_ip(visitor_ip()),
            request_id=request_id(),
            now=utcnow(),
        )
    notices = []
    if not erasure.done_now:
        completed = erasure.request.completed_at
        notices.append(
            ("info", t.already_erased.format(completed=completed, id=erasure.request.id))
        )
    statement_url = None
    if erasure.request.statement_jws is not None:
        statement_url = url_for(
            "preferences.preferences_erasure_statement",
            request_id=erasure.request.id,
            token=download_token(settings().secret_key, erasure.request.id),
        )
    response = render(
        "erased.html",
        notices=notices,
        request_=erasure.request,
        statement_url=statement_url,
        property_name=prop.name if prop else None,
    )
    end_session(response)
    return response
