"""Retention: how long each kind of personal data is kept (``schedule``, from
``policies/retention.toml``, the ``CONSENT_RETENTION`` setting and per-property overrides) and
the batched job that deletes what is past its period (``job``), which the worker runs on a
schedule and ``consent-service retention run`` runs on demand."""
