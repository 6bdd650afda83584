"""``make bench``: the widget's weight on the wire (minified, gzip -9) against two popular
open-source consent banners, fetched from npm with ``npm pack`` when npm can reach its
registry. Run: ``python -m tests.bench.widget_size``."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from widget.assets import BUNDLES
from widget.assets import FIRST_LAYER
from widget.assets import asset

# Their shipped, already minified builds: what a shop would load for a default banner.
OTHERS = {
    "vanilla-cookieconsent@3.1.0": ("dist/cookieconsent.umd.js", "dist/cookieconsent.css"),
    # CSS and translations are bundled into this file.
    "klaro@0.7.22": ("dist/klaro.js",),
}


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


# Files a visitor loads only on some pages: the stub (before any tag, where the shop puts
# it) and the other platforms' adapters (where the property enables any).
OPTIONAL = ("stub.js", "widget-ads.js")


def ours() -> dict[str, int]:
    first = sum(gzipped(asset(name).body) for name in FIRST_LAYER)
    total = sum(gzipped(asset(name).body) for name in BUNDLES if name not in OPTIONAL)
    sizes = {"first layer (widget.js + widget.css)": first, "with the preferences layer": total}
    sizes.update({name: gzipped(asset(name).body) for name in OPTIONAL})
    return sizes


def packed(spec: str, files: tuple[str, ...], workdir: Path) -> int | None:
    """gzip -9 size of ``files`` from the npm tarball of ``spec``; None when npm can't."""
    try:
        done = subprocess.run(
            ["npm", "pack", spec, "--silent", "--pack-destination", str(workdir)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    except (subprocess.SubprocessError, OSError) as error:
        print(f"  ({spec}: npm pack failed: {error})")
        return None
    tarball = workdir / done.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as archive:
        return sum(
            gzipped(archive.extractfile(f"package/{name}").read())  # type: ignore[union-attr]
            for name in files
        )


def main() -> None:
    print("# widget size: minified, gzip -9, bytes")
    sizes = ours()
    for label, size in sizes.items():
        print(f"ours, {label:66} {size:7}")
    first = sizes["first layer (widget.js + widget.css)"]
    if shutil.which("npm") is None:
        print("  (npm is not installed: no comparison)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for spec, files in OTHERS.items():
            size = packed(spec, files, Path(tmp))
            if size is not None:
                name = f"{spec} ({' + '.join(Path(f).name for f in files)})"
                print(f"{name:72} {size:7}   ours: {first / size:.0%} of it")


if __name__ == "__main__":
    main()
