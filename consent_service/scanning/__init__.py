"""The compliance scanner: drives a real browser through a property's own pages, per region
and situation, records what the pages do and judges it against the property's decisions and
vendor list; reports are stored and signed like receipts.

One job per module: ``report`` (the typed report and its JSON), ``storage`` (signed storage,
claims of scheduled scans, reading back, verification), ``token`` (the signed scan token
that makes the widget believe the scanned region), ``ocd`` (the Open Cookie Database),
``browse`` (Playwright), ``record`` (what a page did, from the browser's raw data), ``judge``
(findings), ``run`` (one scan, start to end) and ``schedule`` (the worker's chore).
Framework-free: no Flask here; the CLI (``cli/scan.py``) and the worker are the surfaces.
"""
