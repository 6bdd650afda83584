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


def _view_box(root: ET.Element) -> list[float]:
    return [float(n) for n in root.get("viewBox").split()]


def test_a_chart_scales_with_its_column_instead_of_a_fixed_size():
    root = parse(line_chart("c", "t", DAYS, [Series("FR", (0.5,) * 5)]))
    assert root.get("width") is None and root.get("height") is None
    assert len(_view_box(root)) == 4


def test_the_last_date_label_grows_inwards_so_it_is_never_clipped():
    root = parse(line_chart("c", "t", DAYS, [Series("FR", (0.5,) * 5)]))
    width = _view_box(root)[2]
    dates = [t for t in root.findall(f"{SVG}text") if t.text.startswith("2026-")]
    assert dates[0].get("text-anchor") == "start" and float(dates[0].get("x")) >= 0
    assert dates[-1].text == "2026-11-05"
    assert dates[-1].get("text-anchor") == "end" and float(dates[-1].get("x")) <= width


def test_the_legend_has_its_own_band_above_the_100_percent_line():
    root = parse(line_chart("c", "t", DAYS, [Series("FR", (1.0,) * 5), Series("DE", (0.9,) * 5)]))
    hundred = next(t for t in root.findall(f"{SVG}text") if t.text == "100%")
    rule_y = float(hundred.get("y")) - 4  # the label sits 4 below its grid line
    legend = [t for t in root.findall(f"{SVG}text") if t.text in {"FR", "DE"}]
    assert all(float(t.get("y")) < rule_y - 4 for t in legend)


def test_a_long_legend_wraps_into_more_rows_and_the_chart_grows_to_hold_them():
    short = parse(line_chart("c", "t", DAYS, [Series("FR", (0.5,) * 5)]))
    many = [Series(f"jurisdiction number {i}", (0.5,) * 5) for i in range(6)]
    tall = parse(line_chart("c", "t", DAYS, many))
    assert _view_box(tall)[3] > _view_box(short)[3]
    width = _view_box(tall)[2]
    for line in tall.findall(f"{SVG}line"):
        assert 0 <= float(line.get("x1")) <= float(line.get("x2")) <= width


def test_a_small_count_axis_has_five_different_labels():
    root = parse(bar_chart("b", "t", DAYS, [0, 0, 1, 0, 0]))
    labels = [t.text for t in root.findall(f"{SVG}text") if not t.text.startswith("2026-")]
    assert labels == ["0", "0.25", "0.5", "0.75", "1"]
