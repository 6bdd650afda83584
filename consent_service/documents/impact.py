"""What publishing a material change will do, per regime: who is asked again about which
purposes, and how many people's current grants of them go stale (from the state projection).

The publish screen shows this so a publisher knows the consequence before it happens; it reads
the same rulebook flags :func:`consent_service.decisions.rule.decide` answers by.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from consent_service.jurisdictions.rulebook import jurisdiction_by_code
from consent_service.jurisdictions.rules import Jurisdiction
from consent_service.jurisdictions.rules import Regime
from consent_service.models import ConsentState
from consent_service.models import PolicyDocument
from consent_service.models import PolicyVersion
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.properties.jurisdiction_overrides import apply_overrides


class ImpactGroup(enum.StrEnum):
    """How a regime treats a grant a material change made stale (ARCHITECTURE §4)."""

    OPT_IN = "opt_in"  # asked again; denied until they answer (stale_policy)
    OPT_OUT_CONSENT = "opt_out_consent"  # asked again; denied until they consent (CO 6.04(B))
    OPT_OUT = "opt_out"  # told, with a chance to opt out; allowed meanwhile (MN §325M.16)
    NOTICE = "notice"  # told; allowed meanwhile


def impact_group(rule: Jurisdiction) -> ImpactGroup:
    if rule.regime is Regime.OPT_IN:
        return ImpactGroup.OPT_IN
    if rule.regime is Regime.NOTICE:
        return ImpactGroup.NOTICE
    return ImpactGroup.OPT_OUT_CONSENT if rule.material_change_consent else ImpactGroup.OPT_OUT


@dataclasses.dataclass(frozen=True)
class GroupImpact:
    group: ImpactGroup
    # People (one per browser or account subject) who now grant at least one affected purpose.
    stale_subjects: int
    jurisdictions: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class MaterialImpact:
    affected_purposes: tuple[str, ...]
    groups: tuple[GroupImpact, ...]  # every group, in ImpactGroup's order


def material_change_impact(
    session: Session, version: PolicyVersion, *, now: dt.datetime
) -> MaterialImpact:
    """For a material draft: per regime group, whose current grants of the purposes it affects
    go stale (every grant today was made under an earlier version). An old material version
    that names no purposes affects all of them."""
    document = session.get(PolicyDocument, version.document_id)
    assert document is not None  # a version's document is a foreign key
    prop = session.get(Property, document.property_id)
    assert prop is not None
    purposes = session.execute(
        sa.select(Purpose.id, Purpose.key)
        .where(Purpose.property_id == prop.id)
        .order_by(Purpose.position)
    ).all()
    named = set(version.affected_purposes or [key for _, key in purposes])
    affected = [(pid, key) for pid, key in purposes if key in named]
    counts = session.execute(
        sa.select(ConsentState.jurisdiction, sa.func.count(sa.distinct(ConsentState.subject_id)))
        .where(
            ConsentState.property_id == prop.id,
            ConsentState.granted.is_(True),
            ConsentState.purpose_id.in_([pid for pid, _ in affected]),
        )
        .group_by(ConsentState.jurisdiction)
    ).all()
    by_group: dict[ImpactGroup, tuple[int, list[str]]] = {g: (0, []) for g in ImpactGroup}
    overrides = prop.jurisdiction_overrides or {}
    for code, count in counts:
        rule = apply_overrides(jurisdiction_by_code(code, on=now.date()), overrides)
        total, codes = by_group[impact_group(rule)]
        by_group[impact_group(rule)] = (total + count, sorted([*codes, code]))
    return MaterialImpact(
        affected_purposes=tuple(key for _, key in affected),
        groups=tuple(
            GroupImpact(group, total, tuple(codes)) for group, (total, codes) in by_group.items()
        ),
    )
