"""Policy bodies have one canonical byte form, so one text always has one hash."""

from __future__ import annotations

import unicodedata

from consent_service.documents.versions import body_sha256
from consent_service.documents.versions import canonical_body


def test_line_endings_do_not_change_the_hash():
    assert body_sha256(canonical_body("# Title\r\n\r\nText\r\n")) == body_sha256(
        canonical_body("# Title\n\nText\n")
    )


def test_unicode_normalization_forms_do_not_change_the_hash():
    decomposed = unicodedata.normalize("NFD", "Datenschutzerklärung")
    assert canonical_body(decomposed) == canonical_body("Datenschutzerklärung")


def test_trailing_blanks_are_dropped_and_one_final_newline_kept():
    assert canonical_body("\n\nline one   \nline two\t\n\n\n") == "line one\nline two\n"


def test_a_changed_word_changes_the_hash():
    assert body_sha256(canonical_body("We keep data 30 days.")) != body_sha256(
        canonical_body("We keep data 31 days.")
    )
