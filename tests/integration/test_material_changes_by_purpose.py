"""Material changes by purpose (issue #12, statement 6): a version names the purposes its
material change affects; only choices for those go stale, and each regime answers a stale
grant as its law says. Over real HTTP where it is the API's behaviour."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from consent_service.documents.impact import ImpactGroup
from consent_service.documents.impact import material_change_impact
from consent_service.documents.versions import create_draft
from consent_service.documents.versions import edit_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish
from consent_service.errors import ValidationFailed
from consent_service.models import OutboxMessage
from consent_service.models import PolicyVersion
from consent_service.models.base import utcnow
from consent_service.properties.catalogue import PurposeChange
from consent_service.properties.catalogue import add_purpose
from consent_service.properties.lookup import get_property
from tests.integration.test_consent_tokens import carried
from tests.integration.test_consent_tokens import choice
from tests.integration.test_consent_tokens import verified
from tests.integration.test_webhooks_events import register
from tests.support import demo_consent

EVERYTHING = {"preferences": True, "analytics": True, "marketing": True, "advertising": True}


@pytest.fixture
def reader(api_key):
    return api_key("consent:read")


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def document(session):
    return get_document(session, "demo-shop", "privacy-policy")


def grant_everything(client, region: str) -> uuid.UUID:
    visitor = uuid.uuid4()
    body = {**demo_consent(visitor), "decisions": EVERYTHING}
    response = client.post("/v1/consents", json=body, query_string={"region": region})
    assert response.status_code == 201, response.json
    return visitor


def publish_change(session, document, *affected: str) -> PolicyVersion:
    draft = create_draft(
        session, document, "# Privacy policy v3\n", material=True, affected_purposes=affected
    )
    version = publish(session, draft)
    session.commit()
    return version


def ask(client, headers, visitor, purpose):
    response = client.get(
        "/v1/decisions",
        query_string={"subject": f"visitor:{visitor}", "purpose": purpose},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    return response.json["allowed"], response.json["reason"]


def versions(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(PolicyVersion))


# Per regime: how a grant a material change made stale is answered, and a purpose it added.
REGIMES = pytest.mark.parametrize(
    ("region", "stale_grant", "added"),
    [
        pytest.param(
            "FR", (False, "stale_policy"), (False, "no_record"), id="opt-in: asked, off meanwhile"
        ),
        pytest.param(
            "US-CO",
            (False, "material_change"),
            (False, "material_change"),
            id="CO 6.04(B): consent needed",
        ),
        pytest.param(
            "US-MN",
            (True, "opt_out_default"),
            (True, "opt_out_default"),
            id="MN: notice, allowed meanwhile",
        ),
    ],
)


@REGIMES
def test_only_the_affected_purpose_goes_stale_and_each_regime_answers_it_as_its_law_says(
    client, session, document, reader, region, stale_grant, added
):
    visitor = grant_everything(client, region)
    publish_change(session, document, "marketing")
    assert ask(client, reader, visitor, "marketing") == stale_grant
    assert ask(client, reader, visitor, "advertising") == (True, "granted")


def add_purpose_named(session, key: str, categories: tuple[str, ...] = ()) -> None:
    change = PurposeChange(
        texts={"en": {"name": key.title(), "description": f"The {key} purpose."}},
        legal_basis="consent",
        consent_mode=[],
        opt_out_categories=list(categories),
        position=9,
    )
    add_purpose(session, get_property(session, "demo-shop"), key, change)
    session.commit()


def answers_for(client, headers, visitor, purpose: str) -> set[tuple[bool, str]]:
    """How ``purpose`` is answered for ``visitor`` by every way of asking: alone, in a bulk
    look-up beside the purposes the visitor chose about, and in a consent token."""
    alone = ask(client, headers, visitor, purpose)
    bulk = client.post(
        "/v1/decisions",
        json={"subjects": [f"visitor:{visitor}"], "purposes": [purpose, "marketing", "analytics"]},
        headers=headers,
    )
    assert bulk.status_code == 200, bulk.json
    beside = bulk.json["decisions"][0]
    _, claims = verified(client, choice(client, visitor, token="")["token"])
    return {alone, (beside["allowed"], beside["reason"]), carried(claims)[purpose]}


@REGIMES
def test_a_purpose_a_material_change_added_is_answered_as_each_regimes_law_says(
    client, session, document, reader, region, stale_grant, added
):
    visitor = grant_everything(client, region)
    add_purpose_named(session, "partners")
    publish_change(session, document, "partners")
    assert answers_for(client, reader, visitor, "partners") == {added}
    assert ask(client, reader, visitor, "marketing") == (True, "granted")


def test_a_purpose_added_without_a_material_change_is_the_regimes_default(client, session, reader):
    visitor = grant_everything(client, "US-CO")
    add_purpose_named(session, "partners")
    assert answers_for(client, reader, visitor, "partners") == {(True, "opt_out_default")}


def test_an_opt_out_covers_a_purpose_added_since_in_a_category_it_refused(client, session, reader):
    visitor = uuid.uuid4()
    body = {**demo_consent(visitor), "decisions": {**EVERYTHING, "marketing": False}}
    assert client.post("/v1/consents?region=US-CA", json=body).status_code == 201
    add_purpose_named(session, "partners", ("sale",))
    add_purpose_named(session, "chat")
    assert answers_for(client, reader, visitor, "partners") == {(False, "opted_out")}
    assert answers_for(client, reader, visitor, "chat") == {(True, "opt_out_default")}


def test_a_choice_made_under_the_new_version_is_not_stale(client, session, document, reader):
    publish_change(session, document, "marketing")
    visitor = uuid.uuid4()
    body = {**demo_consent(visitor), "policy_version": 3, "decisions": EVERYTHING}
    assert client.post("/v1/consents?region=US-CO", json=body).status_code == 201
    assert ask(client, reader, visitor, "marketing") == (True, "granted")


def test_the_bulk_look_up_judges_each_purpose_by_its_own_last_change(
    client, session, document, reader
):
    colorado, france = grant_everything(client, "US-CO"), grant_everything(client, "FR")
    publish_change(session, document, "marketing")
    response = client.post(
        "/v1/decisions",
        json={
            "subjects": [f"visitor:{colorado}", f"visitor:{france}"],
            "purposes": ["marketing", "analytics"],
        },
        headers=reader,
    )
    assert [(d["allowed"], d["reason"]) for d in response.json["decisions"]] == [
        (False, "material_change"),
        (True, "granted"),
        (False, "stale_policy"),
        (True, "granted"),
    ]


def test_the_banner_says_which_version_last_changed_each_purpose(client, session, document):
    publish_change(session, document, "marketing", "advertising")
    banner = client.get("/v1/banner?property=demo-shop&region=FR").json
    changed_in = {p["key"]: p["changed_in"] for p in banner["purposes"]}
    # The demo's material version 2 named no purposes, so it changed every one of them.
    assert changed_in == {
        "necessary": 2,
        "preferences": 2,
        "analytics": 2,
        "marketing": 3,
        "advertising": 3,
    }
    assert banner["policy"]["last_material_version"] == 3


def test_a_material_change_that_names_no_purpose_is_refused(session, document):
    before = versions(session)
    with pytest.raises(ValidationFailed) as refused:
        create_draft(session, document, "# v3\n", material=True, affected_purposes=[])
    assert "name the purposes it affects" in refused.value.detail
    assert [e.pointer for e in refused.value.errors] == ["/affected_purposes"]
    assert versions(session) == before


def test_an_unknown_affected_purpose_is_refused_naming_it(session, document):
    before = versions(session)
    with pytest.raises(ValidationFailed) as refused:
        create_draft(
            session, document, "# v3\n", material=True, affected_purposes=["marketing", "spam"]
        )
    assert "'spam'" in refused.value.detail
    assert [e.pointer for e in refused.value.errors] == ["/affected_purposes/1"]
    assert versions(session) == before


def test_a_change_that_is_not_material_affects_no_purpose(session, document):
    with pytest.raises(ValidationFailed) as refused:
        create_draft(session, document, "# v3\n", material=False, affected_purposes=["marketing"])
    assert [e.pointer for e in refused.value.errors] == ["/affected_purposes"]


def test_a_draft_that_stops_being_material_drops_its_purposes(session, document):
    draft = create_draft(
        session, document, "# v3\n", material=True, affected_purposes=["marketing"]
    )
    edit_draft(session, draft, material=False)
    assert draft.affected_purposes == []


def test_affected_purposes_are_kept_in_the_propertys_order_without_repeats(session, document):
    draft = create_draft(
        session,
        document,
        "# v3\n",
        material=True,
        affected_purposes=["advertising", "marketing", "advertising"],
    )
    assert draft.affected_purposes == ["marketing", "advertising"]


def test_policy_published_names_every_purpose_for_an_old_material_version(app, session, document):
    register(app, session, "https://hooks.example/consent", ("policy.published",))
    publish(session, create_draft(session, document, "# v3\n", material=True))
    message = session.scalars(sa.select(OutboxMessage)).one()
    data = json.loads(message.payload)["data"]
    assert data["affected_purposes"] == [
        "necessary",
        "preferences",
        "analytics",
        "marketing",
        "advertising",
    ]


def test_the_impact_counts_stale_grants_per_regime_group(client, session, document):
    for region in ("FR", "FR", "US-CO", "US-MN", "JP"):
        grant_everything(client, region)
    refusal = {**demo_consent(), "method": "reject_all", "decisions": {}}
    assert client.post("/v1/consents?region=FR", json=refusal).status_code == 201
    draft = create_draft(
        session, document, "# v3\n", material=True, affected_purposes=["marketing"]
    )
    impact = material_change_impact(session, draft, now=utcnow())
    counts = {row.group: (row.stale_subjects, row.jurisdictions) for row in impact.groups}
    assert impact.affected_purposes == ("marketing",)
    assert counts[ImpactGroup.OPT_IN] == (2, ("FR",))  # the refusal stays refused: not counted
    assert counts[ImpactGroup.OPT_OUT_CONSENT] == (1, ("US-CO",))
    assert counts[ImpactGroup.OPT_OUT] == (1, ("US-MN",))
    assert counts[ImpactGroup.NOTICE] == (1, ("JP",))


def test_the_publish_screen_says_who_is_asked_about_what_per_regime(
    client, publisher, session, document
):
    grant_everything(client, "US-CO")
    response = publisher.post(
        f"/admin/policies/{document.id}/new",
        {
            "body": "# v3\n",
            "action": "save",
            "material": "on",
            "summary_en": "Marketing now includes SMS.",
            "affected_purposes": "marketing",
        },
    )
    assert response.status_code == 302
    draft = session.scalars(
        sa.select(PolicyVersion).order_by(PolicyVersion.id.desc()).limit(1)
    ).one()
    page = publisher.get(f"/admin/policies/versions/{draft.id}/publish").get_data(as_text=True)
    assert "affecting <code>marketing</code>" in page
    row = page.split('data-group="opt_out_consent"')[1].split("</tr>")[0]
    assert '<td class="count">1</td>' in row
    assert "US-CO" in row


def test_the_admin_editor_refuses_a_material_draft_without_purposes(editor, session, document):
    before = versions(session)
    response = editor.post(
        f"/admin/policies/{document.id}/new",
        {"body": "# v3\n", "action": "save", "material": "on", "summary_en": "x"},
    )
    assert response.status_code == 422
    assert "A material change must name the purposes it affects" in response.get_data(True)
    assert versions(session) == before


def test_the_cli_names_affected_purposes_and_refuses_unknown_ones(runner, session, tmp_path):
    body = tmp_path / "v3.md"
    body.write_text("# v3\n", encoding="utf-8")
    base = ["policy", "draft", "demo-shop", "privacy-policy", "--file", str(body), "--material"]
    refused = runner.invoke(args=[*base, "--affects", "spam"])
    assert refused.exit_code != 0
    assert "'spam' is not a purpose this property offers" in refused.output
    made = runner.invoke(args=[*base, "--affects", "marketing", "--affects", "analytics"])
    assert made.exit_code == 0, made.output
    version_id = int(made.output.strip().rsplit("=", 1)[1])
    assert session.get(PolicyVersion, version_id).affected_purposes == ["analytics", "marketing"]


def test_a_published_version_says_which_purposes_its_change_affected(viewer, session, document):
    version = publish_change(session, document, "marketing")
    page = viewer.get(f"/admin/policies/versions/{version.id}").get_data(as_text=True)
    assert "a material change affecting marketing" in page
    listing = viewer.get("/admin/policies/").get_data(as_text=True)
    assert "yes: marketing" in listing
    assert "yes: every purpose" in listing  # the demo's version 2 named none
