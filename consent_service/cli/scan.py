"""``consent-service scan <property> <url>...``: scan a property's pages in a real browser,
per region and situation, judge what they do, store the signed report; and ``consent-service
scan update-cookie-database [--from URL|FILE]``.

Exit status (for deploy pipelines): 0 nothing at or above ``--fail-on``, and everything
scanned; 1 findings at or above ``--fail-on``; 2 bad usage (unknown property, region or
option); 3 something could not be scanned (a page, a region, the browser), the report says
what (not with ``--fail-on never``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from consent_service.errors import UnknownProperty
from consent_service.extensions import current_session
from consent_service.extensions import receipt_issuer
from consent_service.extensions import settings
from consent_service.jurisdictions.regions import normalise_region
from consent_service.models.base import utcnow
from consent_service.scanning import ocd
from consent_service.scanning.browse import Timing
from consent_service.scanning.report import DEFAULT_SITUATIONS
from consent_service.scanning.report import ScanReportData
from consent_service.scanning.report import Severity
from consent_service.scanning.report import Situation
from consent_service.scanning.run import DEFAULT_PAGES
from consent_service.scanning.run import ScanEnvironment
from consent_service.scanning.run import ScanRequest
from consent_service.scanning.run import run_scan
from consent_service.scanning.storage import report_bytes
from consent_service.scanning.storage import store_report
from consent_service.scanning.token import UNKNOWN

EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3


class _ScanGroup(click.Group):
    """``scan <property> <url>...`` runs a scan; ``scan update-cookie-database`` is the one
    subcommand: anything else first is a property key."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("scan", cls=_ScanGroup)
def scan_cli() -> None:
    """Scan a property's pages: consent-service scan <property> <url>... (see `scan run
    --help`), or update the Open Cookie Database: consent-service scan update-cookie-database."""


def _regions(values: tuple[str, ...]) -> tuple[str, ...] | None:
    regions = []
    for value in values:
        if value.lower() == UNKNOWN:
            regions.append(UNKNOWN)
            continue
        region = normalise_region(value)
        if region is None:
            raise click.BadParameter(
                f"{value!r} is not an ISO 3166 region (FR, GB, US-CA) nor 'unknown'",
                param_hint="--region",
            )
        regions.append(region)
    return tuple(dict.fromkeys(regions)) or None


def _situations(values: tuple[str, ...]) -> tuple[Situation, ...]:
    if not values:
        return DEFAULT_SITUATIONS
    chosen = {Situation(v) for v in values}
    if Situation.WITHDRAWN in chosen and Situation.ACCEPTED not in chosen:
        raise click.BadParameter("withdrawn is the last step of accepted: add accepted too")
    return tuple(s for s in Situation if s in chosen)


@scan_cli.command("run")
@click.argument("property_key", metavar="PROPERTY")
@click.argument("urls", metavar="URL...", nargs=-1, required=True)
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="Scan as a visitor in this region (ISO 3166: FR, GB, US-CA; or 'unknown'); "
    "repeatable. Default: one per regime the rulebook has.",
)
@click.option(
    "--situation",
    "situations",
    multiple=True,
    type=click.Choice([s.value for s in Situation]),
    help="Repeatable. Default: all (first_visit, rejected, accepted, withdrawn, gpc).",
)
@click.option(
    "--pages",
    type=click.IntRange(1, 500),
    default=DEFAULT_PAGES,
    show_default=True,
    help="Pages at most: the URLs given, then same-site links found on them.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=Timing.page,
    show_default=True,
    help="Seconds a page may take to load.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    help="Minutes the whole scan may take; what is left then is reported as not scanned.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--fail-on",
    type=click.Choice(["violation", "warning", "never"]),
    default="violation",
    show_default=True,
    help="Exit 1 when a finding of this severity or worse is found.",
)
@click.option("--no-store", is_flag=True, help="Do not store (and sign) the report.")
def scan_run(
    property_key: str,
    urls: tuple[str, ...],
    regions: tuple[str, ...],
    situations: tuple[str, ...],
    pages: int,
    timeout: float,
    time_limit: float | None,
    as_json: bool,
    fail_on: str,
    no_store: bool,
) -> None:
    """Scan PROPERTY's pages in a real browser (CONSENT_SCAN_BROWSER, Debian's chromium) per
    region and situation, judge them, and store the signed report.

    Exit status: 0 clean, 1 findings at or above --fail-on, 2 bad usage, 3 something could
    not be scanned (the report says what)."""
    config = settings()
    request = ScanRequest(
        property_key=property_key,
        urls=urls,
        regions=_regions(regions),
        situations=_situations(situations),
        pages=pages,
        timing=Timing(page=timeout),
        time_limit=dt.timedelta(minutes=time_limit) if time_limit else None,
    )
    environment = ScanEnvironment.from_settings(config)
    session = current_session()
    try:
        report = run_scan(session, request, environment)
    except UnknownProperty as exc:
        raise click.UsageError(exc.detail) from None
    scan_id = None
    if not no_store:
        try:
            row = store_report(session, report, issuer=receipt_issuer(), now=utcnow())
            session.commit()
        except BaseException:
            session.rollback()
            raise
        scan_id = str(row.id)
    if as_json:
        data = json.loads(report_bytes(report))
        data["scan_id"] = scan_id
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        _summary(report, scan_id)
    sys.exit(exit_status(report, fail_on))


def exit_status(report: ScanReportData, fail_on: str) -> int:
    if fail_on == "never":
        return 0
    worst = {Severity.VIOLATION.value} if fail_on == "violation" else {"violation", "warning"}
    if any(f.severity in worst for f in report.findings):
        return EXIT_FINDINGS
    return EXIT_INCOMPLETE if report.unscanned else 0


def _summary(report: ScanReportData, scan_id: str | None) -> None:
    counts = report.counts
    click.echo(
        f"scan of {report.property_key}: {report.status}, {len(report.pages)} page(s) x "
        f"{len(report.regions)} region(s) x {len(report.situations)} situation(s), "
        f"{len(report.observations)} observed; "
        f"{report.count(Severity.VIOLATION)} violation(s), {report.count(Severity.WARNING)} "
        f"warning(s)" + (f"; stored as {scan_id}" if scan_id else "; not stored")
    )
    if any(counts.values()):
        click.echo("  " + ", ".join(f"{kind} {n}" for kind, n in counts.items() if n))
    for finding in report.findings:
        more = len(finding.evidence.get("pages") or [finding.url]) - 1
        also = f" and {more} more page(s)" if more else ""
        click.echo(
            f"{finding.severity.upper()} [{finding.region} / {finding.situation}] "
            f"{finding.message} ({finding.url}{also})"
        )
    for gap in report.unscanned:
        where = " / ".join(x for x in (gap.region, gap.situation) if x)
        click.echo(
            f"NOT SCANNED {gap.url or 'all pages'}{f' [{where}]' if where else ''}: {gap.reason}",
            err=True,
        )


@scan_cli.command("update-cookie-database")
@click.option(
    "--from",
    "origin",
    default=ocd.DEFAULT_UPDATE_URL,
    show_default=True,
    help="An http(s) URL or a file of the Open Cookie Database's CSV export.",
)
def update_cookie_database(origin: str) -> None:
    """Check a newer Open Cookie Database and, only if it is a complete export, make it the
    one the scanner uses (kept in the instance folder; the shipped copy stays as it is)."""
    try:
        installed = ocd.install_database(settings().instance_path, origin, now=utcnow())
    except ocd.InvalidCookieDatabase as exc:
        raise click.ClickException(
            f"{origin} is not a usable Open Cookie Database: {exc}"
        ) from None
    except OSError as exc:
        raise click.ClickException(f"{origin} could not be read: {exc}") from None
    click.echo(
        f"installed {installed.entries} entries (SHA-256 {installed.sha256}) as {installed.path}"
    )
