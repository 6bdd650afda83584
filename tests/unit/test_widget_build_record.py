"""widget/dist/<name>.sha256: how the service knows a committed build is the one made from the
current sources, now that the hashes stay out of the files every visitor downloads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from widget.assets import BUNDLES
from widget.assets import DIST_DIR
from widget.assets import LICENSE_COMMENT
from widget.assets import build_record
from widget.assets import fresh_build


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A copy of the committed build, to spoil."""
    for name in BUNDLES:
        for file in (name, f"{name}.sha256"):
            shutil.copy(DIST_DIR / file, tmp_path / file)
    return tmp_path


@pytest.mark.parametrize("name", list(BUNDLES))
def test_a_served_file_carries_the_licence_and_no_hash(name):
    built = (DIST_DIR / name).read_text(encoding="utf-8")
    assert built.startswith(LICENSE_COMMENT)
    assert "sha256" not in built


def test_a_build_of_the_current_sources_is_fresh(dist):
    assert fresh_build("widget.js", dist) == (DIST_DIR / "widget.js").read_text(encoding="utf-8")


def test_a_build_of_other_sources_is_stale(dist):
    record = (dist / "widget.js.sha256").read_text(encoding="utf-8")
    (dist / "widget.js.sha256").write_text(record.replace("sources ", "sources 0", 1))
    assert fresh_build("widget.js", dist) is None


def test_a_built_file_changed_by_hand_is_stale(dist):
    built = (dist / "widget.css").read_text(encoding="utf-8")
    (dist / "widget.css").write_text(built.replace("z-index", "z-index:0;z-index", 1))
    assert fresh_build("widget.css", dist) is None


def test_a_build_without_its_record_is_stale(dist):
    (dist / "widget-gpp.js.sha256").unlink()
    assert fresh_build("widget-gpp.js", dist) is None


def test_the_record_names_both_hashes():
    lines = build_record("widget.js", "x").splitlines()
    assert [line.split(" ")[0] for line in lines] == ["sources", "built"]
    assert lines[1] == "built 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
