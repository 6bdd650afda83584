"""The rulebook flags issue #12 sets (11 CCR §7028's two-step re-opt-in, CO Rule 6.04(B)'s
consent for material changes, a notice's "acknowledge" button), made sure of for tests of
the decisions that read them.

The flags' values are the rulebook's data (``policies/rulebook``); these tests are about what
the service does with them. Where the book already states a flag as set here, the fixture
changes nothing.
"""

from __future__ import annotations

import dataclasses

import pytest

from consent_service.jurisdictions.rulebook import rulebook

# code -> the flags the tests rely on (the contract of commit 778b299 and the legal review).
LAW = {
    "US-CA": {"reoptin_confirmation": True, "material_change_consent": True},
    "US-CO": {"material_change_consent": True},
    "US-MN": {"material_change_consent": False},
    "JP": {"first_layer": ("acknowledge", "customize")},
}


@pytest.fixture
def issue_12_law(monkeypatch):
    book = rulebook()
    for code, flags in LAW.items():
        rule = book[code]
        jurisdiction = dataclasses.replace(rule.jurisdiction, **flags)
        monkeypatch.setitem(book, code, dataclasses.replace(rule, jurisdiction=jurisdiction))
