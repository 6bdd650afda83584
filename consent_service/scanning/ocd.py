"""The Open Cookie Database (Apache-2.0, ``data/NOTICE.md``): what an unknown cookie, storage
key or host probably is, as a suggestion of vendor and purpose.

Entries match a name exactly, or, where the database marks them ``Wildcard match`` = 1, as a
prefix (``_ga_`` matches ``_ga_DEMO42``; the longest prefix wins). A host matches an entry's
``Domain`` (``adform.net (3rd party)``) when it is that domain or under it.

The copy shipped in ``data/`` is read unless the instance folder holds one that
:func:`install_database` checked and put there (``consent-service scan
update-cookie-database``); each file is parsed once per process.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import os
import re
import tempfile
import urllib.request
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

SHIPPED = Path(__file__).resolve().parent / "data" / "open-cookie-database.csv"
INSTANCE_FILE = "open-cookie-database.csv"
SOURCE_FILE = "open-cookie-database.source.json"
SHIPPED_SOURCE = {
    "source": "https://github.com/jkwakman/Open-Cookie-Database",
    "commit": "0ee5a17fe1cb002943f89370d24fc26a4226061c",
    "sha256": "0a8d78901ae55d859e34f7cc760262819af4c764b4f9bc3bbdeea2296e31f156",
}
DEFAULT_UPDATE_URL = (
    "https://raw.githubusercontent.com/jkwakman/Open-Cookie-Database/master/"
    "open-cookie-database.csv"
)
COLUMNS = (
    "ID",
    "Platform",
    "Category",
    "Cookie / Data Key name",
    "Domain",
    "Description",
    "Retention period",
    "Data Controller",
    "User Privacy & GDPR Rights Portals",
    "Wildcard match",
)
CATEGORIES = frozenset(
    {"Functional", "Analytics", "Marketing", "Personalization", "Security", "Necessary"}
)
# A smaller file than this is a truncated or wrong download, not a newer database.
MIN_ENTRIES = 1000
MAX_BYTES = 20 * 1024 * 1024
# The database's category -> the purpose key the service's default purposes use for it
# (tried in order; the first the property offers wins). Functional and Security cookies keep
# a shop working; the judge treats them as essential.
CATEGORY_PURPOSES: Mapping[str, tuple[str, ...]] = {
    "Analytics": ("analytics",),
    "Marketing": ("marketing", "advertising"),
    "Personalization": ("preferences",),
    "Functional": ("necessary",),
    "Security": ("necessary",),
    "Necessary": ("necessary",),
}
ESSENTIAL_CATEGORIES = frozenset({"Functional", "Security", "Necessary"})


class InvalidCookieDatabase(ValueError):
    """A file that is not an Open Cookie Database export (columns, categories, size)."""


@dataclasses.dataclass(frozen=True)
class Entry:
    platform: str
    category: str
    name: str
    domains: tuple[str, ...]
    description: str
    retention: str
    controller: str
    wildcard: bool


class CookieDatabase:
    """The entries, indexed for look-ups by name and by host."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = tuple(entries)
        self._exact: dict[str, Entry] = {}
        self._folded: dict[str, Entry] = {}
        self._prefixes: list[Entry] = []
        self._domains: dict[str, Entry] = {}
        for entry in self.entries:
            if entry.wildcard:
                self._prefixes.append(entry)
            else:
                self._exact.setdefault(entry.name, entry)
                self._folded.setdefault(entry.name.casefold(), entry)
            for domain in entry.domains:
                self._domains.setdefault(domain, entry)
        self._prefixes.sort(key=lambda e: len(e.name), reverse=True)

    def __len__(self) -> int:
        return len(self.entries)

    def by_name(self, name: str) -> Entry | None:
        """Exact name, then the longest wildcard prefix, then the name in another case."""
        found = self._exact.get(name)
        if found is not None:
            return found
        for entry in self._prefixes:
            if name.startswith(entry.name):
                return entry
        return self._folded.get(name.casefold())

    def by_host(self, host: str) -> Entry | None:
        """The entry of the host's domain or of the nearest parent domain listed."""
        labels = host.lower().split(":")[0].split(".")
        for i in range(len(labels) - 1):
            found = self._domains.get(".".join(labels[i:]))
            if found is not None:
                return found
        return None


def parse(text: str) -> CookieDatabase:
    """Check and index an export; InvalidCookieDatabase says what is wrong with it."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise InvalidCookieDatabase(
            f"expected the columns {', '.join(COLUMNS)}; got {', '.join(reader.fieldnames or ())}"
        )
    entries: list[Entry] = []
    for line, row in enumerate(reader, start=2):
        name = (row["Cookie / Data Key name"] or "").strip()
        category = (row["Category"] or "").strip()
        wildcard = (row["Wildcard match"] or "").strip()
        if not name:
            raise InvalidCookieDatabase(f"line {line}: no cookie name")
        if category not in CATEGORIES:
            raise InvalidCookieDatabase(f"line {line}: unknown category {category!r}")
        if wildcard not in ("0", "1"):
            raise InvalidCookieDatabase(f"line {line}: wildcard match must be 0 or 1")
        entries.append(
            Entry(
                platform=(row["Platform"] or "").strip(),
                category=category,
                name=name,
                domains=_domains(row["Domain"] or ""),
                description=(row["Description"] or "").strip(),
                retention=(row["Retention period"] or "").strip(),
                controller=(row["Data Controller"] or "").strip(),
                wildcard=wildcard == "1",
            )
        )
    if len(entries) < MIN_ENTRIES:
        raise InvalidCookieDatabase(
            f"only {len(entries)} entries; a complete export has more than {MIN_ENTRIES}"
        )
    return CookieDatabase(entries)


_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def _domains(field: str) -> tuple[str, ...]:
    """``.bing.com (3rd party) or .microsoft.com (3rd party)`` -> ``("bing.com",
    "microsoft.com")``; anything that is not a domain name is left out."""
    found = []
    for part in re.split(r",| or ", field.lower().replace("(3rd party)", "")):
        domain = part.strip().lstrip(".")
        if _DOMAIN.match(domain):
            found.append(domain)
    return tuple(found)


def database_path(instance_path: Path) -> Path:
    """The copy in force: the instance folder's, if one was installed, else the shipped one."""
    installed = instance_path / INSTANCE_FILE
    return installed if installed.is_file() else SHIPPED


def load(instance_path: Path) -> CookieDatabase:
    path = database_path(instance_path)
    return _load(path, path.stat().st_mtime_ns)


@functools.cache
def _load(path: Path, _mtime_ns: int) -> CookieDatabase:
    """Parsed once per file version (the modification time is part of the key)."""
    return parse(path.read_text(encoding="utf-8"))


def source(instance_path: Path) -> dict[str, str]:
    """Where the copy in force came from (for the report: what the suggestions rest on)."""
    if database_path(instance_path) == SHIPPED:
        return dict(SHIPPED_SOURCE)
    note = instance_path / SOURCE_FILE
    try:
        recorded = json.loads(note.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"source": "unknown"}
    return {str(k): str(v) for k, v in recorded.items()}


@dataclasses.dataclass(frozen=True)
class Installed:
    path: Path
    entries: int
    sha256: str


def install_database(
    instance_path: Path, origin: str, *, now: dt.datetime, timeout: float = 30.0
) -> Installed:
    """Fetch (``http(s)://``) or read (a file path) a copy, check it, and only then replace
    the instance folder's copy (atomically); InvalidCookieDatabase or OSError otherwise, and
    the copy in force is unchanged."""
    data = _fetch(origin, timeout) if re.match(r"^https?://", origin) else _read(Path(origin))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidCookieDatabase("not UTF-8 text") from None
    database = parse(text)
    digest = hashlib.sha256(data).hexdigest()
    instance_path.mkdir(parents=True, exist_ok=True)
    target = instance_path / INSTANCE_FILE
    _replace(target, text.encode("utf-8"))
    note = {"source": origin, "installed_at": now.isoformat(), "sha256": digest}
    _replace(instance_path / SOURCE_FILE, json.dumps(note, indent=2).encode())
    return Installed(target, len(database), digest)


def _fetch(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        data: bytes = answer.read(MAX_BYTES + 1)
    return _bounded(data)


def _read(path: Path) -> bytes:
    with path.open("rb") as file:
        return _bounded(file.read(MAX_BYTES + 1))


def _bounded(data: bytes) -> bytes:
    if len(data) > MAX_BYTES:
        raise InvalidCookieDatabase(f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return data


def _replace(target: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
