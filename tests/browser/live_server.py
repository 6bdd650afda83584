"""The real app on a free loopback port, served from a background thread, for the browser."""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server

from tests.support import make_settings
from tests.support import shut_down
from tests.support import started_on_fresh_database


class LiveServer:
    """Binds first, then builds the app: receipts and banner links name the service's public
    URL, which must be the address the browser really talks to."""

    def __init__(self, instance_path: Path) -> None:
        self._app: Flask | None = None
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.port}"
        database = f"sqlite:///{instance_path / 'browser.db'}"
        self.app = started_on_fresh_database(
            # Every browser test signs in from 127.0.0.1: the per-IP sign-in limit is for people.
            make_settings(
                instance_path, database, base_url=self.url, admin_sign_in_rate_limit="1000/minute"
            )
        )
        self._app = self.app
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _dispatch(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        assert self._app is not None, "a request arrived before the app was built"
        return self._app(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()
        shut_down(self.app)
