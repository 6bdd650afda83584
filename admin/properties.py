"""``/admin/properties/``: each property's own settings (name, the origins allowed to embed
the widget, languages, cookie domain, the ad and shop platforms the widget tells the
choice) and the banner's words per language, shared ones and
per regime (opt-in, opt-out, notice), with a live preview of the real widget for each regime
(through an example region from the rulebook) or a chosen region, in a chosen language.
Every save is audited and bumps the property's ``config_version``, so banner caches refresh
at once."""

from __future__ import annotations

import datetime as dt
import re
import secrets

import sqlalchemy as sa
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from admin import bp
from admin.guard import CONTENT_SECURITY_POLICY
from admin.guard import commit_audited
from admin.guard import relax_security_headers
from admin.guard import requires
from consent_service.banner.preview import preview_region
from consent_service.banner.preview import regime_examples
from consent_service.banner.preview import sign_preview_region
from consent_service.errors import ValidationFailed
from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.jurisdictions.regions import normalise_region
from consent_service.jurisdictions.rulebook import jurisdiction_for_region
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.jurisdictions.rules import Regime
from consent_service.models import Property
from consent_service.models.base import utcnow
from consent_service.properties.jurisdiction_overrides import apply_overrides
from consent_service.properties.platforms import PLATFORMS
from consent_service.properties.settings import LATER_TEXT_KEYS
from consent_service.properties.settings import LOCALE
from consent_service.properties.settings import REGIME_TEXT_ORDER
from consent_service.properties.settings import REQUIRED_TEXT_KEYS
from consent_service.properties.settings import SHARED_TEXT_ORDER
from consent_service.properties.settings import PropertySettings
from consent_service.properties.settings import snapshot
from consent_service.properties.settings import update_property_settings
from consent_service.staff.accounts import Permission

# Regions the preview offers besides each regime's example (any ISO 3166 code works in the URL).
PREVIEW_REGIONS = ("FR", "DE", "IT", "GB", "CH", "US-CA", "US-TX", "US-VA", "BR", "JP")
# How the editor names each regime's group of words, and the fields whose label depends on it.
REGIME_LEGENDS = {
    Regime.OPT_IN: "Opt-in: the law asks for consent before anything optional runs",
    Regime.OPT_OUT: "Opt-out: optional tracking runs until the visitor opts out",
    Regime.NOTICE: "Notice: the law asks only to inform",
}
REGIME_LABELS = {
    "title": "Title",
    "description": "Description",
    "acknowledge": "OK button (acknowledges the notice)",
    "accept_all": "Accept-all button",
}
REJECT_LABELS = {
    Regime.OPT_IN: "Reject-all button",
    Regime.OPT_OUT: "Opt-out button",
    Regime.NOTICE: "Switch-all-off button (in the preferences)",
}
# The edit page frames the preview; nothing else changes from the admin's strict policy.
EDIT_PAGE_POLICY = CONTENT_SECURITY_POLICY + "; frame-src 'self'"


def preview_policy(origin: str) -> str:
    """The preview runs the widget (its script and styles from this origin), and only the
    admin's own pages may frame it. It may fetch the banner and nothing else: a click in the
    preview cannot post a consent (the browser blocks /v1/consents), so trying the banner
    out never records anything."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"connect-src {origin}/v1/banner",
            "img-src 'self' data:",
            "form-action 'self'",
            "frame-ancestors 'self'",
            "base-uri 'none'",
        )
    )


_SEPARATORS = re.compile(r"[\s,]+")


@bp.get("/properties/")
@requires(Permission.VIEW)
def properties() -> ResponseReturnValue:
    rows = current_session().scalars(sa.select(Property).order_by(Property.key)).all()
    return render_template("admin/properties.html", properties=rows)


@bp.get("/properties/<key>")
@requires(Permission.VIEW)
def property_edit(key: str) -> ResponseReturnValue:
    prop = _property(key)
    return _editor(prop, _form_of(prop))


@bp.post("/properties/<key>")
@requires(Permission.EDIT)
def property_save(key: str) -> ResponseReturnValue:
    prop = _property(key)
    form = _submitted(prop)
    session = current_session()
    before = snapshot(prop)
    try:
        changed = update_property_settings(session, prop, form.settings)
    except ValidationFailed as exc:  # refused before anything changed
        return _editor(prop, form, error=exc), 422
    part = _part(form, request.args.get("part"))
    if not changed:
        flash("Nothing changed.", "info")
        return redirect(url_for("admin.property_edit", key=prop.key, part=part))
    commit_audited(
        "property.settings_changed",
        target_type="property",
        target_id=prop.key,
        before=before,
        after=snapshot(prop),
        message="Settings saved. The banner shows the new settings from now on.",
    )
    return redirect(url_for("admin.property_edit", key=prop.key, part=part))


@bp.get("/properties/<key>/preview")
@requires(Permission.VIEW)
def property_preview(key: str) -> ResponseReturnValue:
    """The real widget, as a visitor of ``region`` sees it in ``locale``. The region travels
    as a signed token (the widget passes the page's ``?region=`` on to the banner API, which
    honours a fresh token in every environment, production included)."""
    prop = _property(key)
    locale = _preview_locale(prop, request.args.get("locale"))
    given = request.args.get("region")
    region = preview_region(settings().secret_key, given)
    if region is None and (plain := normalise_region(given)):
        return redirect(
            url_for("admin.property_preview", key=prop.key, region=_token(plain), locale=locale)
        )
    relax_security_headers(preview_policy(request.host_url.rstrip("/")), "SAMEORIGIN")
    return render_template(
        "admin/banner_preview.html",
        prop=prop,
        region=region,
        regime=_regime_of(prop, region, utcnow().date()).value.replace("_", "-"),
        locale=locale,
        # A fresh cookie name per view: no earlier choice hides the banner.
        cookie_name=f"preview_{secrets.token_hex(8)}",
    )


# --- helpers -------------------------------------------------------------------------------


class EditForm:
    """The editor's values: as stored, or as submitted (shown again when refused)."""

    def __init__(
        self,
        *,
        name: str,
        origins: str,
        default_locale: str,
        locales: str,
        cookie_domain: str,
        texts: dict[str, dict[str, str]],
        regime_texts: dict[str, dict[str, dict[str, str]]],
        platforms: list[str],
    ) -> None:
        self.name = name
        self.origins = origins
        self.default_locale = default_locale
        self.locales = locales
        self.cookie_domain = cookie_domain
        self.texts = texts
        self.regime_texts = regime_texts
        self.platforms = platforms

    @property
    def locale_list(self) -> list[str]:
        """One fieldset per language: the default first, then the others as listed."""
        listed = [self.default_locale, *_SEPARATORS.split(self.locales)]
        return list(dict.fromkeys(value for value in listed if LOCALE.match(value)))

    @property
    def settings(self) -> PropertySettings:
        return PropertySettings(
            name=self.name,
            allowed_origins=self.origins.splitlines(),
            default_locale=self.default_locale,
            locales=[value for value in _SEPARATORS.split(self.locales) if value],
            cookie_domain=self.cookie_domain,
            banner_texts=self.texts,
            regime_texts=self.regime_texts,
            platforms=self.platforms,
        )


def _form_of(prop: Property) -> EditForm:
    return EditForm(
        name=prop.name,
        origins="\n".join(prop.allowed_origins or []),
        default_locale=prop.default_locale,
        locales=" ".join(prop.locales or []),
        cookie_domain=prop.cookie_domain or "",
        texts={locale: dict(texts) for locale, texts in (prop.banner_texts or {}).items()},
        regime_texts={
            regime: {locale: dict(texts) for locale, texts in by_locale.items()}
            for regime, by_locale in (prop.regime_texts or {}).items()
        },
        platforms=list(prop.platforms or []),
    )


def _submitted(prop: Property) -> EditForm:
    form = request.form
    edit = EditForm(
        name=form.get("name", ""),
        origins=form.get("allowed_origins", ""),
        default_locale=form.get("default_locale", "").strip(),
        locales=form.get("locales", ""),
        cookie_domain=form.get("cookie_domain", ""),
        texts={},
        regime_texts={},
        platforms=form.getlist("platforms"),
    )
    edit.texts = {
        locale: {key: form.get(f"text-{locale}-{key}", "") for key in SHARED_TEXT_ORDER}
        for locale in edit.locale_list
    }
    edit.regime_texts = {
        regime.value: {
            locale: {
                key: form.get(f"regime-{regime.value}-{locale}-{key}", "")
                for key in REGIME_TEXT_ORDER[regime]
            }
            for locale in edit.locale_list
        }
        for regime in Regime
    }
    return edit


def _editor(prop: Property, form: EditForm, *, error: ValidationFailed | None = None) -> str:
    locales = list(dict.fromkeys([prop.default_locale, *(prop.locales or [])]))
    today = utcnow().date()
    examples = regime_examples(on=today)
    first_example = next(iter(examples.values())).code
    region = normalise_region(request.args.get("region")) or first_example
    preview_locale = _preview_locale(prop, request.args.get("locale"))
    relax_security_headers(EDIT_PAGE_POLICY, "DENY")
    return render_template(
        "admin/property_edit.html",
        prop=prop,
        form=form,
        parts=_parts(form),
        # A refusal shows every part, so each field it names is on the page beside its message.
        part="all" if error else _part(form, request.args.get("part")),
        shared_keys=SHARED_TEXT_ORDER,
        platforms=list(PLATFORMS.values()),
        required_keys=REQUIRED_TEXT_KEYS,
        later_keys=LATER_TEXT_KEYS,
        regimes=[
            (regime, REGIME_LEGENDS[regime], examples.get(regime), _regime_fields(regime))
            for regime in Regime
        ],
        error=f"Nothing was saved: {error.detail}." if error else None,
        invalid={_field(problem.pointer) for problem in error.errors} if error else set(),
        examples=examples,
        regions=[code for code in PREVIEW_REGIONS if code not in _codes(examples)],
        preview_region=region,
        preview_regime=_regime_of(prop, region, today).value.replace("_", "-"),
        preview_locales=locales,
        preview_locale=preview_locale,
        preview_url=url_for(
            "admin.property_preview", key=prop.key, region=_token(region), locale=preview_locale
        ),
    )


def _parts(form: EditForm) -> list[tuple[str, str]]:
    """The editor's tabs: the settings with the live preview, then each language's banner texts
    (three languages' texts on one page made it 5,900 px long). Plain links: no JavaScript."""
    return [("settings", "Settings & preview")] + [
        (f"texts-{locale}", f"Banner texts: {locale}") for locale in form.locale_list
    ]


def _part(form: EditForm, wanted: str | None) -> str:
    """The part asked for, or the first (also for a language that is no longer listed)."""
    keys = [key for key, _ in _parts(form)]
    return wanted if wanted in keys else keys[0]


def _regime_fields(regime: Regime) -> list[tuple[str, str]]:
    """(key, label) of a regime's words, in the order the banner shows them."""
    labels = {**REGIME_LABELS, "reject_all": REJECT_LABELS[regime]}
    return [(key, labels[key]) for key in REGIME_TEXT_ORDER[regime]]


def _codes(examples: dict[Regime, Jurisdiction]) -> set[str]:
    return {rule.code for rule in examples.values()}


def _regime_of(prop: Property, region: str | None, day: dt.date) -> Regime:
    """The regime the banner API applies to ``region`` for this property (its overrides too)."""
    rule = jurisdiction_for_region(region, on=day)
    return apply_overrides(rule, prop.jurisdiction_overrides or {}).regime


def _field(pointer: str) -> str:
    """The form field a problem is about: ``/allowed_origins/2`` -> ``/allowed_origins``."""
    parts = pointer.split("/")
    depth = {"banner_texts": 4, "regime_texts": 5}.get(parts[1] if len(parts) > 1 else "", 2)
    return "/".join(parts[:depth])


def _token(region: str) -> str:
    return sign_preview_region(settings().secret_key, region)


def _preview_locale(prop: Property, wanted: str | None) -> str:
    locales = [prop.default_locale, *(prop.locales or [])]
    return wanted if wanted in locales else prop.default_locale


def _property(key: str) -> Property:
    prop = current_session().scalar(sa.select(Property).where(Property.key == key))
    if prop is None:
        abort(404)
    return prop
