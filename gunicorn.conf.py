"""gunicorn's settings for this service (read from the working directory by ``gunicorn
wsgi:app``; ``make run`` uses it). Command-line flags override it.

The request line and header limits sit above the app's own (``web.request_limits``:
``MAX_URL_BYTES``, ``MAX_HEADER_FIELD_BYTES``), so an oversized URL or header gets the app's
problem+json 414 or 431. Only what is beyond these limits too (a request line over 8,190
bytes, a header line over 16,380, more than 100 header fields) still gets gunicorn's own
HTML 414 or 431 page: gunicorn refuses those before any app code runs.
"""

import gc
from typing import Any

limit_request_line = 8190  # gunicorn's maximum (0 would mean unlimited)
limit_request_field_size = 16380
limit_request_fields = 100


def post_worker_init(worker: Any) -> None:
    """Once the app is loaded in a worker, its long-lived objects (modules, the app, the
    models' metadata, compiled statements) leave the garbage collector's generations: a full
    collection then scans only what requests allocate (it was ~40 % of a bulk look-up)."""
    gc.collect()
    gc.freeze()


def worker_exit(server: Any, worker: Any) -> None:
    """A worker that stops (SIGTERM, a restart) first writes the look-ups still in its
    access-log buffer; the interpreter's exit would too, this says it where it happens."""
    app = getattr(worker, "wsgi", None)
    if getattr(app, "extensions", None) is not None:
        from consent_service.extensions import close_deferred_writes

        close_deferred_writes(app)
