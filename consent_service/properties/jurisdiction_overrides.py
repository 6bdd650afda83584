"""A property's stricter-than-the-law settings per jurisdiction (ARCHITECTURE §5: stricter,
never laxer), stored on the property and applied wherever a jurisdiction is chosen: the
banner, the receipt (its lifetime) and the look-up.

Setting one is checked against the law in force (``tighten`` refuses anything laxer). If the
law later becomes stricter than a stored setting, the law wins field by field: applying an
override never loosens the rule it is applied to.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping

from sqlalchemy.orm import Session

from consent_service.errors import FieldError
from consent_service.errors import ValidationFailed
from consent_service.jurisdictions.rulebook import rulebook
from consent_service.jurisdictions.rules import MAX_REASK_FLOOR_MONTHS
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.jurisdictions.rules import LooseningRefused
from consent_service.jurisdictions.rules import Regime
from consent_service.jurisdictions.rules import tighten
from consent_service.models import Property
from consent_service.properties.config_version import bump_config_version

log = logging.getLogger(__name__)
# A century: longer than any law's, and well within what a date can be moved by.
MAX_CONSENT_LIFETIME_DAYS = 36_500


# The first layers a property may choose (each valid for every regime it is allowed in): the
# symmetric consent layer, and a notice's acknowledgement with refusal beside it.
FIRST_LAYER_CHOICES: tuple[tuple[str, ...], ...] = (
    ("accept_all", "reject_all", "customize"),
    ("acknowledge", "reject_all", "customize"),
)


@dataclasses.dataclass(frozen=True)
class Override:
    regime: Regime | None = None
    honours_gpc: bool | None = None
    first_layer: tuple[str, ...] | None = None
    consent_lifetime_days: int | None = None
    reask_floor_months: int | None = None

    @classmethod
    def from_stored(cls, stored: Mapping[str, object]) -> Override:
        regime = stored.get("regime")
        lifetime = stored.get("consent_lifetime_days")
        floor = stored.get("reask_floor_months")
        layer = stored.get("first_layer")
        if layer is None and stored.get("reject_all_first_layer"):
            layer = FIRST_LAYER_CHOICES[0]  # stored before first_layer: refusal on the layer
        return cls(
            regime=Regime(str(regime)) if regime else None,
            honours_gpc=bool(stored["honours_gpc"]) if "honours_gpc" in stored else None,
            first_layer=tuple(str(b) for b in layer) if isinstance(layer, list | tuple) else None,
            consent_lifetime_days=int(str(lifetime)) if lifetime is not None else None,
            reask_floor_months=int(str(floor)) if floor is not None else None,
        )

    def stored(self) -> dict[str, object]:
        values = {
            "regime": self.regime.value if self.regime else None,
            "honours_gpc": self.honours_gpc,
            "first_layer": list(self.first_layer) if self.first_layer is not None else None,
            "consent_lifetime_days": self.consent_lifetime_days,
            "reask_floor_months": self.reask_floor_months,
        }
        return {key: value for key, value in values.items() if value is not None}

    def apply(self, base: Jurisdiction) -> Jurisdiction:
        return tighten(
            base,
            regime=self.regime,
            honours_gpc=self.honours_gpc,
            first_layer=self.first_layer,
            consent_lifetime=dt.timedelta(days=self.consent_lifetime_days)
            if self.consent_lifetime_days is not None
            else None,
            reask_floor_months=self.reask_floor_months,
        )

    def singles(self) -> dict[str, Override]:
        """One override per setting this one makes, by field name."""
        return {
            field.name: Override(**{field.name: getattr(self, field.name)})
            for field in dataclasses.fields(self)
            if getattr(self, field.name) is not None
        }


def apply_overrides(
    jurisdiction: Jurisdiction, overrides: Mapping[str, Mapping[str, object]]
) -> Jurisdiction:
    """``jurisdiction`` as the property tightened it; the law where the law is stricter."""
    stored = overrides.get(jurisdiction.code)
    if not stored:
        return jurisdiction
    result = jurisdiction
    # Field by field, so a setting the law has since overtaken drops out alone.
    for single in Override.from_stored(stored).singles().values():
        try:
            result = single.apply(result)
        except LooseningRefused:
            log.info("an override for %s is no stricter than the law; the law applies", result.code)
    return result


def set_override(session: Session, prop: Property, code: str, override: Override) -> None:
    """Store ``override`` for ``code`` after checking it is no laxer than the law in force;
    each setting that is laxer (or out of range) is named at its own pointer."""
    rule = rulebook().get(code)
    if rule is None:
        raise ValidationFailed(
            f"there is no jurisdiction {code!r} in the rulebook",
            errors=[FieldError("/jurisdiction", "unknown jurisdiction")],
        )
    days = override.consent_lifetime_days
    if days is not None and not 1 <= days <= MAX_CONSENT_LIFETIME_DAYS:
        raise ValidationFailed(
            f"a consent lifetime is 1 to {MAX_CONSENT_LIFETIME_DAYS:,} days",
            errors=[FieldError("/consent_lifetime_days", f"1 to {MAX_CONSENT_LIFETIME_DAYS}")],
        )
    months = override.reask_floor_months
    if months is not None and not 0 <= months <= MAX_REASK_FLOOR_MONTHS:
        raise ValidationFailed(
            f"a re-ask floor is 0 to {MAX_REASK_FLOOR_MONTHS} months",
            errors=[FieldError("/reask_floor_months", f"0 to {MAX_REASK_FLOOR_MONTHS}")],
        )
    law = rule.on(dt.datetime.now(dt.UTC).date())
    try:
        override.apply(law)
    except LooseningRefused as exc:
        errors = []
        for name, single in override.singles().items():
            try:
                single.apply(law)
            except LooseningRefused as each:
                errors.append(FieldError(f"/{name}", str(each)))
        raise ValidationFailed(
            f"a property may make a rule stricter, never laxer: {exc}",
            errors=errors or [FieldError("/override", str(exc))],
        ) from None
    overrides = dict(prop.jurisdiction_overrides or {})
    if override.stored():
        overrides[code] = override.stored()
    else:
        overrides.pop(code, None)
    prop.jurisdiction_overrides = overrides  # a new dict, so the JSON column sees the change
    bump_config_version(session, prop.id)
    session.flush()
