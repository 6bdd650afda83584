"""The real app on a free loopback port, served from a background thread, for the browser."""

from __future__ import annotations

from pathlib import Path

from tests.support import ServedApp


class LiveServer(ServedApp):
    """On a SQLite file of its own; every browser test signs in from 127.0.0.1, so the per-IP
    admin sign-in limit (meant for people) is relaxed."""

    def __init__(self, instance_path: Path) -> None:
        super().__init__(
            instance_path,
            f"sqlite:///{instance_path / 'browser.db'}",
            admin_sign_in_rate_limit="1000/minute",
        )
