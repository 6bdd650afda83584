"""Choosing the banner's language."""

from __future__ import annotations

import pytest

from consent_service.banner.configuration import negotiate_locale
from consent_service.errors import ValidationFailed

AVAILABLE = ("en", "de", "fr")


@pytest.mark.parametrize(
    ("requested", "accept_language", "chosen"),
    [
        ("de", None, "de"),
        ("de-AT", None, "de"),
        ("FR", None, "fr"),
        ("ja", None, "en"),
        (None, "fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        (None, "ja, de;q=0.5", "de"),
        (None, "de;q=0.2, fr;q=0.9", "fr"),
        (None, "*", "en"),
        (None, "de;q=0", "en"),
        (None, None, "en"),
        (None, "garbage;;;q=x, ,", "en"),
    ],
)
def test_the_best_available_locale_is_chosen(requested, accept_language, chosen):
    assert negotiate_locale(requested, accept_language, AVAILABLE, "en") == chosen


def test_an_explicit_locale_beats_accept_language():
    assert negotiate_locale("fr", "de", AVAILABLE, "en") == "fr"


@pytest.mark.parametrize("requested", ["<script>", "d", "de_DE", "x" * 20, "de-"])
def test_a_malformed_locale_is_refused(requested):
    with pytest.raises(ValidationFailed) as error:
        negotiate_locale(requested, None, AVAILABLE, "en")
    assert error.value.errors[0].pointer == "/locale"
