"""``make bench``: the widget's weight on the wire (minified, gzip -9): the first layer every
visitor loads before the banner, each bundle loaded later on its own (whatever
widget/assets.py's BUNDLES holds, so a new bundle shows up without an edit here), what a US
visitor's page load fetches, and two popular open-source consent banners for comparison,
fetched from npm with ``npm pack`` when npm can reach its registry.
Run: ``python -m tests.bench.widget_size``."""

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


# Loaded on every page once the banner's answer is in, in every region (vendors ask for GPP
# everywhere); a US visitor's page load is the first layer and this.
GPP_BUNDLE = "widget-gpp.js"
# The synchronous stub the README's embed snippet puts before any tag.
STUB = "stub.js"
FIRST_LAYER_LABEL = f"first layer ({' + '.join(FIRST_LAYER)})"


def ours() -> dict[str, int]:
    """Sizes by label: the first layer, each later bundle, then the totals."""
    size = {name: gzipped(asset(name).body) for name in BUNDLES}
    first = sum(size[name] for name in FIRST_LAYER)
    sizes = {FIRST_LAYER_LABEL: first}
    for name in BUNDLES:
        if name not in FIRST_LAYER:
            sizes[f"  later: {name}"] = size[name]
    sizes[f"US visitor's page load (first layer + {GPP_BUNDLE})"] = first + size[GPP_BUNDLE]
    sizes[f"with the stub the README's embed puts first (+ {STUB})"] = first + size[STUB]
    sizes["everything"] = sum(size.values())
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
    first = sizes[FIRST_LAYER_LABEL]
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
