"""Reviewed data: the jurisdiction rulebook and the demo property's policy documents.

This package holds data, not behaviour; the service reads it through ``DEMO_DIR`` and friends.
"""

from pathlib import Path

DEMO_DIR = Path(__file__).parent / "demo"
RULEBOOK_DIR = Path(__file__).parent / "rulebook"
ERASURE_DEADLINES = Path(__file__).parent / "rights" / "erasure_deadlines.toml"
RETENTION_SCHEDULE = Path(__file__).parent / "retention.toml"
