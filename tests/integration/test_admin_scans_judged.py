"""The Scans page on what the scanner's own judge reports (real Open Cookie Database, the demo
shop's real vendor list): its findings render, and what "add to vendor list" declares is
exactly what the judge then no longer reports as undeclared."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from consent_service.decisions.rule import Decision
from consent_service.decisions.rule import Reason
from consent_service.models import Vendor
from consent_service.scanning import ocd
from consent_service.scanning.judge import judge_cell
from consent_service.scanning.report import RequestRecord
from consent_service.scanning.report import sorted_findings
from consent_service.scanning.run import load_facts
from tests.scan_support.reports import cookie
from tests.scan_support.reports import observation
from tests.scan_support.reports import report
from tests.scan_support.reports import store
from tests.scan_support.reports import table

DOUBLECLICK = RequestRecord(
    host="stats.g.doubleclick.net",
    path="/g/collect",
    query_keys=("tid", "cid"),
    resource_type="image",
    initiator="http://shop.test:8000/",
)
ADFORM = RequestRecord(
    host="track.adform.net",
    path="/Serving/TrackPoint/",
    query_keys=("pm",),
    resource_type="script",
    initiator="http://shop.test:8000/",
)


def _first_visit_in_france(app, session):
    """The judge's findings for a first visit in FR with nothing chosen: a declared analytics
    cookie set anyway, an undeclared Hotjar cookie, GA's _gid and a DoubleClick request."""
    page = observation(
        "FR",
        "first_visit",
        cookies=[cookie("_ga"), cookie("_hjid"), cookie("_gid")],
        requests=[DOUBLECLICK, ADFORM],
    )
    facts = load_facts(session, "demo-shop")
    refused = {
        p.key: Decision(True, Reason.ESSENTIAL, p.key)
        if p.essential
        else Decision(False, Reason.NO_RECORD, p.key)
        for p in facts.purposes
    }
    database = ocd.load(Path(app.instance_path))
    found = judge_cell(facts, [page], [refused], database=database)
    return [page], sorted_findings(found), (facts, refused, database)


def _undeclared(findings) -> set[str]:
    return {f.subject for f in findings if f.kind == "undeclared"}


def test_the_judges_findings_are_shown_and_a_declared_suggestion_is_not_found_again(
    app, editor, session, issuer
):
    observations, findings, (_, refused, database) = _first_visit_in_france(app, session)
    assert _undeclared(findings) == {"_hjid", "_gid", "track.adform.net"}
    row = store(session, issuer, report(observations, findings))
    html = editor.get("/admin/scans/?property=demo-shop").get_data(as_text=True)
    rows = table(html, "Findings in FR, First visit, no choice")[1:]
    assert len(rows) == len(findings)
    ga = next(r for r in rows if r[1].startswith("cookie _ga of Google Analytics 4"))
    assert ga[0] == "violation before consent"
    assert "decision for analytics: denied (no_record)" in ga[2]
    suggested = {r[0]: r for r in table(html, "Undeclared in the latest results")[1:]}
    assert suggested["Cookie _hjid"][2].startswith("Hotjar, Analytics (purpose analytics)")
    assert suggested["Requests to track.adform.net"][2].startswith("Adform, Marketing")
    doubleclick = next(r for r in rows if "stats.g.doubleclick.net" in r[1])
    assert doubleclick[0] == "violation before consent"
    assert (
        "Request to stats.g.doubleclick.net/g/collect with the parameters tid, cid"
        in (doubleclick[2])
    )

    indices = {f.subject: i for i, f in enumerate(findings) if f.kind == "undeclared"}
    for subject, purpose in (
        ("_hjid", "analytics"),
        ("_gid", "analytics"),
        ("track.adform.net", "advertising"),
    ):
        form = {"scan": str(row.id), "finding": str(indices[subject]), "purpose": purpose}
        answer = editor.post("/admin/scans/declare?property=demo-shop", data=form)
        assert answer.status_code == 302, answer.get_data(as_text=True)

    session.expire_all()
    vendors = {v.key: v for v in session.scalars(sa.select(Vendor))}
    assert vendors["hotjar"].cookies[-1]["name"] == "_hjid"
    assert vendors["hotjar"].cookies[-1]["duration"] == "P365D"
    assert vendors["google-analytics"].cookies[-1]["name"] == "_gid"  # joined GA 4
    assert vendors["google-analytics"].cookies[-1]["duration"] == "PT24H"
    # The next judgement, on the same page, with the vendor list as it is now.
    again = judge_cell(load_facts(session, "demo-shop"), observations, [refused], database=database)
    assert _undeclared(again) == set()
    # Declared under refused purposes, they are now violations of their vendors, as they
    # should be on a first visit in France.
    subjects = {(f.kind, f.subject) for f in again}
    assert ("before_consent", "_hjid") in subjects
    assert ("before_consent", "track.adform.net") in subjects
    assert vendors["adform"].cookies == [
        {
            "name": "TPC",
            "domain": "track.adform.net",
            "duration": "P14D",
            "description": "Used to determine if browser of user accepts third party cookies "
            "or not",
        }
    ]
