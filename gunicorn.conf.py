"""gunicorn's settings for this service (read from the working directory by ``gunicorn
wsgi:app``; ``make run`` uses it). Command-line flags override it.

The request line and header limits sit above the app's own (``web.request_limits``:
``MAX_URL_BYTES``, ``MAX_HEADER_FIELD_BYTES``), so an oversized URL or header gets the app's
problem+json 414 or 431. Only what is beyond these limits too (a request line over 8,190
bytes, a header line over 16,380, more than 100 header fields) still gets gunicorn's own
HTML 414 or 431 page: gunicorn refuses those before any app code runs.
"""

limit_request_line = 8190  # gunicorn's maximum (0 would mean unlimited)
limit_request_field_size = 16380
limit_request_fields = 100
