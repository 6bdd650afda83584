"""gunicorn's settings for the benchmarks (``gunicorn -c tests/bench/gunicorn_conf.py``): the
repository's own ``gunicorn.conf.py``, as ``make run`` serves, plus a note from each worker
once it has loaded the app, so a measurement starts only when every worker can answer (a
worker is forked long before it has imported and built the app, seconds on a busy machine).

The note is an empty file named by the worker's pid in ``$BENCH_READY_DIR``.
"""

import os
import runpy
from pathlib import Path
from typing import Any

_settings = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
globals().update({k: v for k, v in _settings.items() if not k.startswith("__")})
_their_post_worker_init = _settings.get("post_worker_init")


def post_worker_init(worker: Any) -> None:
    """The repository's own hook, if it has one, then the note."""
    if _their_post_worker_init is not None:
        _their_post_worker_init(worker)
    if ready := os.environ.get("BENCH_READY_DIR"):
        Path(ready, str(worker.pid)).touch()
