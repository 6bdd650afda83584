"""Policy Markdown renders to HTML that runs nothing and links only to the web."""

from __future__ import annotations

import pytest

from consent_service.documents.rendering import render_policy


def test_markdown_becomes_headings_lists_and_links():
    html = render_policy("# Privacy\n\n- one\n- [site](https://shop.example)\n")
    assert "<h1>Privacy</h1>" in html
    assert "<li>one</li>" in html
    assert 'href="https://shop.example"' in html


def test_raw_html_in_the_source_is_shown_as_text_not_run():
    html = render_policy("Hello <script>alert(1)</script> <img src=x onerror=alert(2)>")
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>", "vbscript:x"]
)
def test_links_to_anything_but_the_web_or_mail_are_removed(link):
    html = render_policy(f"[click]({link})")
    assert "<a" not in html  # no link at all: shown as text, never followed


def test_mail_links_are_kept():
    assert 'href="mailto:privacy@shop.example"' in render_policy(
        "[write to us](mailto:privacy@shop.example)"
    )


def test_links_do_not_pass_referrer_or_rank():
    assert 'rel="noopener noreferrer nofollow"' in render_policy("[x](https://a.example)")


def test_tables_render():
    html = render_policy("| a | b |\n| - | - |\n| 1 | 2 |\n")
    assert "<table>" in html and "<td>1</td>" in html


def test_headings_can_be_demoted_to_fit_the_page_they_are_shown_in():
    html = render_policy("# Title\n\n###### Deep\n", demote=2)
    assert "<h3>Title</h3>" in html
    assert "<h6>Deep</h6>" in html
