"""The schedule as the Markdown table the README holds (``consent-service retention table``)."""

from __future__ import annotations

from consent_service.retention.schedule import DEFAULT_CODE
from consent_service.retention.schedule import RECEIPTS
from consent_service.retention.schedule import Schedule


def schedule_table(schedule: Schedule) -> str:
    """One row per kind (receipts: one per jurisdiction with its limitation)."""
    lines = [
        "| kind | stored in | kept for | counted from | floor | per property | why |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind in schedule.kinds.values():
        if kind.key == RECEIPTS:
            for code, limitation in sorted(
                schedule.limitations.items(), key=lambda item: (item[0] == DEFAULT_CODE, item[0])
            ):
                label = "every other jurisdiction" if code == DEFAULT_CODE else code
                lines.append(
                    f"| `{RECEIPTS}` ({label}) | {kind.stored_in} | {limitation.words()} "
                    f"| {kind.starts} | {limitation.minimum.words()} | no "
                    f"| {kind.reason}: {limitation.law} [{limitation.source_confidence}] |"
                )
            continue
        assert kind.period is not None
        floor = kind.minimum.words() if kind.minimum else "none"
        lines.append(
            f"| `{kind.key}` | {kind.stored_in} | {kind.period.words()} | {kind.starts} "
            f"| {floor} | {'yes' if kind.per_property else 'no'} "
            f"| {kind.reason} [{kind.source_confidence}] |"
        )
    return "\n".join(lines) + "\n"
