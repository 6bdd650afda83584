"""What a visitor sees of the widget (issue #17 item 4): no focus ring drawn on load for a mouse
user (a keyboard user's Tab still shows one), cookie lifetimes in the banner's language, a
compact banner on a phone with the preferences layer's answers always in view, and the
rulebook's links laid out one per line. Where layout is the point, a screenshot is kept in the
test's tmp_path as an artefact."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}  # an iPhone SE-sized screen, in CSS pixels


def phone(chromium: Any, live_server: Any) -> Any:
    """A fresh page at a phone's viewport (the ``shop`` fixture's pages are desktop-sized)."""
    context = chromium.new_context(viewport=PHONE, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(5000)
    return page


def open_demo(page: Any, url: str, query: str) -> None:
    page.goto(f"{url}/demo/{query}")
    page.locator("#cw-banner").wait_for()


def outline(page: Any) -> str:
    """The computed outline of the focused element, e.g. "solid 3px" or "none 0px"."""
    return str(
        page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return s.outlineStyle + ' ' + s.outlineWidth; })()"
        )
    )


def test_the_banner_takes_focus_on_load_without_drawing_a_ring(shop, tmp_path: Path):
    visitor = shop()
    visitor.visit()
    assert visitor.page.evaluate("document.activeElement.id") == "cw-banner"
    visitor.page.screenshot(path=str(tmp_path / "banner-on-load.png"))
    assert outline(visitor.page).startswith("none")
    assert visitor.page.evaluate("getComputedStyle(document.activeElement).boxShadow") != (
        "rgb(255, 255, 255) 0px 0px 0px 5px"
    )


def test_tab_from_the_banner_shows_a_ring_on_its_first_control(shop, tmp_path: Path):
    visitor = shop()
    visitor.visit()
    visitor.page.keyboard.press("Tab")
    assert visitor.page.evaluate(
        "document.getElementById('cw-banner').contains(document.activeElement)"
    )
    visitor.page.screenshot(path=str(tmp_path / "banner-after-tab.png"))
    assert outline(visitor.page) == "solid 3px"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", ["30 days", "6 months", "1 year", "30 minutes", "2 years"]),
        ("de", ["30 Tage", "6 Monate", "1 Jahr", "30 Minuten", "2 Jahre"]),
        ("fr", ["30 jours", "6 mois", "1 an", "30 minutes", "2 ans"]),
    ],
)
def test_cookie_lifetimes_read_in_the_banners_language(shop, lang, expected):
    visitor = shop()
    visitor.visit(f"?lang={lang}")
    visitor.page.evaluate("window.consent.open()")
    visitor.preferences.wait_for()
    visitor.page.evaluate(
        "document.querySelectorAll('dialog.cw-prefs details').forEach((d) => { d.open = true; })"
    )
    cookies = visitor.preferences.locator(".cw-cookies li").all_inner_texts()
    lifetimes = {text.replace("\xa0", " ").split(" — ")[0].split(" ", 1)[1] for text in cookies}
    assert set(expected) <= lifetimes
    assert "session" in lifetimes  # not an ISO 8601 duration: shown as the property wrote it
    assert not any(text.startswith("P") for text in lifetimes), lifetimes


@pytest.mark.parametrize("lang", ["en", "de", "fr"])
def test_on_a_phone_the_banner_covers_less_than_two_fifths_of_the_screen(
    chromium, live_server, tmp_path: Path, lang
):
    page = phone(chromium, live_server)
    try:
        open_demo(page, live_server.url, f"?region=FR&lang={lang}")
        page.screenshot(path=str(tmp_path / f"phone-banner-{lang}.png"))
        box = page.locator("#cw-banner").bounding_box()
        assert box["height"] / PHONE["height"] < 0.40, box
        assert box["y"] + box["height"] <= PHONE["height"]
        for answer in page.locator("#cw-banner .cw-actions button").all():
            assert within_screen(page, answer)
    finally:
        page.context.close()


def test_on_a_phone_the_preferences_answers_show_without_scrolling(
    chromium, live_server, tmp_path: Path
):
    page = phone(chromium, live_server)
    try:
        open_demo(page, live_server.url, "?region=FR")
        page.locator("#cw-banner").get_by_role("button", name="Choose purposes").click()
        page.locator("dialog.cw-prefs").wait_for()
        page.screenshot(path=str(tmp_path / "phone-preferences.png"))
        answers = page.locator("dialog.cw-prefs .cw-foot button")
        assert answers.all_inner_texts() == ["Reject all", "Accept all", "Save my choices"]
        for answer in answers.all():
            assert within_screen(page, answer)
        # The purposes scroll between the head and the footer; the answers stay where they are.
        before = answers.first.bounding_box()
        page.locator("dialog.cw-prefs .cw-body").evaluate("(body) => { body.scrollTop = 1e6; }")
        assert page.locator("dialog.cw-prefs .cw-body").evaluate("(b) => b.scrollTop") > 0
        assert answers.first.bounding_box() == before
        page.screenshot(path=str(tmp_path / "phone-preferences-scrolled.png"))
    finally:
        page.context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_californias_links_stand_one_per_line_flush_with_the_text(
    chromium, live_server, tmp_path: Path, width
):
    context = chromium.new_context(
        viewport={"width": width, "height": 800}, reduced_motion="reduce"
    )
    page = context.new_page()
    try:
        open_demo(page, live_server.url, "?region=US-CA")
        page.screenshot(path=str(tmp_path / f"us-ca-links-{width}.png"))
        links = page.locator("#cw-banner .cw-links button").all()
        assert len(links) == 3
        boxes = [link.bounding_box() for link in links]
        text_start = page.locator("#cw-description p").last.bounding_box()["x"]
        assert all(abs(box["x"] - text_start) < 1 for box in boxes), boxes
        for above, below in itertools.pairwise(boxes):
            assert below["y"] >= above["y"] + above["height"]  # each on a line of its own
        for link in links:  # each link's own text starts at its start edge, never centred
            assert link.evaluate("(b) => getComputedStyle(b).textAlign") == "start"
    finally:
        context.close()


def within_screen(page: Any, element: Any) -> bool:
    """Entirely inside the viewport and the top-most thing at its centre (not covered)."""
    box = element.bounding_box()
    inside = box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    hit = element.evaluate(
        "(e) => { const r = e.getBoundingClientRect();"
        " return e.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"
    )
    return bool(inside and hit)
