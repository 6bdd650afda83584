"""``consent-service ...`` commands, one module per group: each parses, calls the domain inside
``cli.running.run_committed`` (which commits, or rolls back and reports a domain error in its
own words), and reports.

``worker`` drains the outbox; ``demo``, ``receipts``, ``state``, ``policy``, ``signing-key``,
``keys``, ``keystore``, ``identity-secret``, ``webhooks``, ``campaigns``, ``admin``,
``rulebook``, ``retention`` and ``scan`` (the compliance scanner) are the groups.
"""

from __future__ import annotations

from flask import Flask

from consent_service.cli.admin import admin_cli
from consent_service.cli.campaigns import campaigns_cli
from consent_service.cli.demo import demo_cli
from consent_service.cli.identity_secret import identity_secret_cli
from consent_service.cli.keys import keys_cli
from consent_service.cli.keystore import keystore_cli
from consent_service.cli.policy import policy_cli
from consent_service.cli.receipts import receipts_cli
from consent_service.cli.retention import retention_cli
from consent_service.cli.rulebook import rulebook_cli
from consent_service.cli.scan import scan_cli
from consent_service.cli.signing_key import signing_key_cli
from consent_service.cli.state import state_cli
from consent_service.cli.webhooks import webhooks_cli
from consent_service.cli.worker import worker_cli

COMMANDS = (
    worker_cli,
    demo_cli,
    receipts_cli,
    state_cli,
    policy_cli,
    signing_key_cli,
    keys_cli,
    keystore_cli,
    identity_secret_cli,
    webhooks_cli,
    campaigns_cli,
    admin_cli,
    rulebook_cli,
    retention_cli,
    scan_cli,
)


def register_cli(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
