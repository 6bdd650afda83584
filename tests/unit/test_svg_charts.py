"""Dashboard charts are well-formed, accessible SVG that never execute or inject text."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from consent_service.staff.svg_charts import Series
from consent_service.staff.svg_charts import bar_chart
from consent_service.staff.svg_charts import line_chart

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(5)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_a_line_chart_is_an_image_labelled_by_its_title_and_description():
    root = parse(line_chart("rates", "Marketing consent", DAYS, [Series("FR", (0.5,) * 5)]))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "rates-t rates-d"
    assert root.find(f"{SVG}title").text == "Marketing consent"


def test_each_series_is_one_line_and_a_legend_entry():
    svg = line_chart("c", "t", DAYS, [Series("FR", (0.1,) * 5), Series("DE", (0.9,) * 5)])
    root = parse(svg)
    assert len(root.findall(f"{SVG}polyline")) == 2
    assert {t.text for t in root.findall(f"{SVG}text")} >= {"FR", "DE"}


def test_a_day_without_data_is_a_gap_not_a_zero():
    root = parse(line_chart("c", "t", DAYS, [Series("FR", (0.2, 0.4, None, 0.6, 0.8))]))
    assert len(root.findall(f"{SVG}polyline")) == 2


def test_a_lone_known_day_is_drawn_as_a_dot():
    root = parse(line_chart("c", "t", DAYS, [Series("FR", (None, 0.5, None, None, None))]))
    assert len(root.findall(f"{SVG}circle")) == 1


def test_shares_are_labelled_as_percentages():
    labels = {t.text for t in parse(line_chart("c", "t", DAYS, [Series("x", (1.0,) * 5)])).iter()}
    assert {"0%", "50%", "100%"} <= labels


def test_labels_from_data_are_escaped():
    svg = line_chart("c", "<script>", DAYS, [Series("</text><script>x</script>", (0.5,) * 5)])
    assert "<script>" not in svg
    parse(svg)  # still well-formed


def test_a_bar_chart_has_one_bar_per_day_with_its_count_in_a_tooltip():
    root = parse(bar_chart("b", "Receipts per day", DAYS, [3, 0, 7, 12, 1]))
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == 5
    assert bars[3].find(f"{SVG}title").text == "2026-11-04: 12"


def test_the_count_axis_ends_on_a_round_number_above_the_largest_value():
    labels = {t.text for t in parse(bar_chart("b", "t", DAYS, [3, 0, 7, 12, 1])).iter()}
    assert "20" in labels
