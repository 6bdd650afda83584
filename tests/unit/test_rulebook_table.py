"""The README's jurisdiction table is the one ``consent-service rulebook table`` prints: a
change to the book that is not carried into the README fails here."""

from __future__ import annotations

from pathlib import Path

from consent_service.jurisdictions.rulebook import rulebook
from consent_service.jurisdictions.rules import STRICTEST
from consent_service.jurisdictions.table import rulebook_table

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- rulebook-table:start -->\n", "<!-- rulebook-table:end -->"


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(START, 1)[1].split(END, 1)[0]


def test_the_readme_table_is_what_the_command_prints(app):
    printed = app.test_cli_runner().invoke(args=["rulebook", "table"])
    assert printed.exit_code == 0, printed.output
    assert readme_table() == printed.output, (
        "README.md's jurisdiction table is stale: run `consent-service rulebook table` and "
        "paste its output between the rulebook-table markers"
    )


def test_the_table_has_one_row_per_rule_the_strictest_first():
    rows = rulebook_table(rulebook()).splitlines()[2:]
    assert len(rows) == len(rulebook())
    assert rows[0].startswith(f"| `{STRICTEST.code}` ")


def test_a_row_shows_regime_buttons_gpc_date_floor_lifetime_and_links():
    rows = {row.split("`")[1]: row for row in rulebook_table(rulebook()).splitlines()[2:]}
    assert rows["US-CO"] == (
        "| `US-CO` Colorado | 2023-07-01 | opt_out | accept_all, reject_all, customize | "
        "2024-07-01 | 12 months | 365 days | “Your Privacy Choices” |"
    )
    assert "| notice | acknowledge, customize | no |" in rows["US"]
