"""``gunicorn tests.bench.bare_wsgi:app``: the baseline served exactly like the service."""

from tests.bench.inprocess import bare_app

app = bare_app()
