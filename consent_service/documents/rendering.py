"""Policy Markdown as HTML for people, safely: whatever an editor (or an attacker who got
an editor's session) writes, the page runs no script and links nowhere but the web.

Two layers: markdown-it renders CommonMark with raw HTML switched off (so ``<script>`` is
text), then nh3 (the Rust ammonia sanitiser) keeps only an allow-list of tags and attributes
and only http(s)/mailto links, which removes ``javascript:`` and ``data:`` URLs.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
    "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
_HEADING = re.compile(r"<(/?)h([1-6])>")


def render_policy(markdown: str, *, demote: int = 0) -> str:
    """Sanitised HTML for ``markdown`` (mark it safe only after this). ``demote`` shifts
    headings down (h1 -> h3 with 2) so a policy shown inside a page keeps that page's outline."""
    html = _markdown.render(markdown)
    if demote:
        html = _HEADING.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + demote)}>", html)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
