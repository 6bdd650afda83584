"""What changed between two published versions of a policy, line by line, for people.

Customers receive a link to this diff with every policy-change notice, and the admin shows
the same before publishing. Lines are compared as the canonical Markdown source (what the
version's hash covers); a changed line also marks the words that changed within it. Long
unchanged stretches fold to their first and last lines of context.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import enum
import re

from sqlalchemy.orm import Session

from consent_service.documents.versions import get_document
from consent_service.documents.versions import get_published
from consent_service.errors import FieldError
from consent_service.errors import ValidationFailed
from consent_service.models import PolicyDocument
from consent_service.models import PolicyVersion

CONTEXT_LINES = 3
_WORDS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


class RowKind(enum.StrEnum):
    SAME = "same"
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"
    FOLDED = "folded"  # unchanged lines not shown


@dataclasses.dataclass(frozen=True)
class Segment:
    text: str
    changed: bool


@dataclasses.dataclass(frozen=True)
class Row:
    kind: RowKind
    old_line: int | None = None
    new_line: int | None = None
    old: tuple[Segment, ...] = ()
    new: tuple[Segment, ...] = ()
    folded: int = 0


@dataclasses.dataclass(frozen=True)
class VersionFacts:
    number: int | None  # None: a draft
    sha256: str
    material: bool
    effective_at: dt.datetime | None
    change_summary: dict[str, str]


@dataclasses.dataclass(frozen=True)
class PolicyDiff:
    property_key: str
    document_key: str
    document_title: str
    old: VersionFacts
    new: VersionFacts
    rows: tuple[Row, ...]
    added: int
    removed: int
    changed: int


def diff_published(
    session: Session, property_key: str, document_key: str, old_number: int, new_number: int
) -> PolicyDiff:
    """The diff from one published version to another (either order); 404 for unknown or
    unpublished versions, 422 when both are the same."""
    if old_number == new_number:
        raise ValidationFailed(
            "compare two different versions",
            errors=[FieldError("/new", "must differ from the old version")],
        )
    document = get_document(session, property_key, document_key)
    old = get_published(session, property_key, document_key, old_number)
    new = get_published(session, property_key, document_key, new_number)
    return diff_versions(property_key, document, old, new)


def diff_versions(
    property_key: str, document: PolicyDocument, old: PolicyVersion, new: PolicyVersion
) -> PolicyDiff:
    """Any two versions of one document, drafts included (the admin compares a draft with
    what is published before publishing it)."""
    rows = tuple(_fold(list(_rows(old.body.splitlines(), new.body.splitlines()))))
    return PolicyDiff(
        property_key=property_key,
        document_key=document.key,
        document_title=document.title,
        old=_facts(old),
        new=_facts(new),
        rows=rows,
        added=sum(1 for r in rows if r.kind is RowKind.ADDED),
        removed=sum(1 for r in rows if r.kind is RowKind.REMOVED),
        changed=sum(1 for r in rows if r.kind is RowKind.CHANGED),
    )


def _facts(version: PolicyVersion) -> VersionFacts:
    return VersionFacts(
        number=version.number,
        sha256=version.sha256,
        material=version.material,
        effective_at=version.effective_at,
        change_summary=dict(version.change_summary or {}),
    )


def _rows(old: list[str], new: list[str]) -> list[Row]:
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(
                Row(
                    RowKind.SAME, i + 1, j + 1, (Segment(old[i], False),), (Segment(new[j], False),)
                )
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        # Pair replaced lines side by side; the longer side's extra lines stand alone.
        pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(pairs):
            left, right = _word_diff(old[i1 + k], new[j1 + k])
            rows.append(Row(RowKind.CHANGED, i1 + k + 1, j1 + k + 1, left, right))
        rows.extend(
            Row(RowKind.REMOVED, old_line=i + 1, old=(Segment(old[i], True),))
            for i in range(i1 + pairs, i2)
        )
        rows.extend(
            Row(RowKind.ADDED, new_line=j + 1, new=(Segment(new[j], True),))
            for j in range(j1 + pairs, j2)
        )
    return rows


def _word_diff(old: str, new: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if i2 > i1:
            left.append(Segment("".join(a[i1:i2]), tag != "equal"))
        if j2 > j1:
            right.append(Segment("".join(b[j1:j2]), tag != "equal"))
    return tuple(left), tuple(right)


def _fold(rows: list[Row]) -> list[Row]:
    """Keep CONTEXT_LINES of unchanged lines around each change; fold the rest."""
    near_change = [False] * len(rows)
    for index, row in enumerate(rows):
        if row.kind is not RowKind.SAME:
            for k in range(
                max(0, index - CONTEXT_LINES), min(len(rows), index + CONTEXT_LINES + 1)
            ):
                near_change[k] = True
    folded: list[Row] = []
    hidden = 0
    for index, row in enumerate(rows):
        if near_change[index]:
            if hidden:
                folded.append(Row(RowKind.FOLDED, folded=hidden))
                hidden = 0
            folded.append(row)
        else:
            hidden += 1
    if hidden:
        folded.append(Row(RowKind.FOLDED, folded=hidden))
    return folded
