"""Every operation of the served OpenAPI document, exercised with generated requests.

Schemathesis generates valid and invalid requests from ``/v1/openapi.json`` and sends them to
the app in-process. Every answer must be documented: no 5xx, a documented status code and
content type, and a body that matches the response schema. Authenticated operations get a
live API key with every scope.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from collections.abc import Iterable

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.specs.openapi.checks import response_headers_conformance
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance

from consent_service.api.openapi import SPEC_URL
from consent_service.api.openapi import openapi_document
from consent_service.consent.receipts import ACKNOWLEDGE_DEFAULT_DIFFERS
from consent_service.consent.receipts import GPC_NOT_HONOURED
from consent_service.consent.receipts import NOT_ON_FIRST_LAYER
from consent_service.integrations.identity import LOCALE_NOT_OFFERED
from tests.contract.conftest import ContractApp

pytestmark = pytest.mark.slow  # hundreds of generated requests: about ten seconds in all

# The document is built once per process and depends on no app or database, so it can be loaded
# at collection time, one test per operation; requests go to the fixture's app (WSGI), and
# test_the_served_document_is_the_one_tested proves the app serves this very document.
schema = schemathesis.openapi.from_dict(openapi_document())

# Per operation and phase; CONTRACT_MAX_EXAMPLES=500 digs deeper locally.
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "25"))
# Refusals of a schema-valid request that no schema can state: they depend on what is stored
# (the property's purposes, and which are essential) or on a signature the service made
# (identity tokens, unsubscribe links) or on the property's languages, or relate two
# parameters (a diff of a version with itself), or on the law where the person is (which
# methods its first layer offers, its defaults, whether GPC counts there) and what they
# chose before (a re-opt-in's second step).
STATE_DEPENDENT_PROBLEMS = {
    "unknown-purpose",
    "invalid-identity-token",
    "invalid-unsubscribe-link",
    "reoptin-confirmation-required",
}
STATE_DEPENDENT_DETAILS = {
    "a decision is required for every offered purpose",
    "an essential purpose cannot be refused",
    ACKNOWLEDGE_DEFAULT_DIFFERS,
    GPC_NOT_HONOURED,
    NOT_ON_FIRST_LAYER,
    LOCALE_NOT_OFFERED,  # a customer's language: one of the property's
}
CROSS_PARAMETER_RULES = {
    ("GET /policies/{property_key}/{document_key}/diff/{old}..{new}", "/new"),
    ("POST /v1/decisions", "/subjects"),  # subjects x purposes: at most 10,000 pairs
}


def schema_valid_request_accepted(ctx, response, case):
    """Schemathesis' "schema-valid request rejected" check, except for the refusals above."""
    if response.headers.get("content-type", [""])[0].startswith("application/problem+json"):
        problem = response.json()
        code = problem["type"].rsplit("/", 1)[-1]
        errors = problem.get("errors", [])
        rules = {(case.operation.label, error["pointer"]) for error in errors}
        details = {error["detail"] for error in errors}
        if (
            code in STATE_DEPENDENT_PROBLEMS
            or (errors and details <= STATE_DEPENDENT_DETAILS)
            or (errors and rules <= CROSS_PARAMETER_RULES)
        ):
            return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    schema_valid_request_accepted,
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_operation_conforms(case: Case, contract_app: ContractApp) -> None:
    if case.operation.definition.raw.get("security"):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {contract_app.api_key}"}
    case.call_and_validate(app=decoding(contract_app.app), checks=CHECKS)


def decoding(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """``app`` as an HTTP client sees it: a gzipped body (the banner, the widget's files, when
    the generated request accepts gzip) decoded before the checks read it, as every client
    decodes Content-Encoding; werkzeug's test client does not."""

    def wsgi(environ: dict, start_response: Callable[..., object]) -> Iterable[bytes]:
        answered: list = []
        chunks = app(
            environ, lambda status, headers, exc_info=None: answered.extend([status, headers])
        )
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        status, headers = answered
        if ("Content-Encoding", "gzip") in headers:
            body = gzip.decompress(body)
            headers = [
                (name, value)
                for name, value in headers
                if name not in ("Content-Encoding", "Content-Length")
            ] + [("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [body]

    return wsgi


def test_the_served_document_is_the_one_tested(contract_app: ContractApp) -> None:
    served = schemathesis.openapi.from_wsgi(SPEC_URL, contract_app.app)
    assert served.raw_schema == schema.raw_schema
    labels = {operation.ok().label for operation in served.get_all_operations()}
    assert {"GET /v1/decisions", "POST /v1/consents", "DELETE /v1/webhooks/{endpoint_id}"} <= labels


def test_policy_numbers_beyond_the_database_range_are_404(contract_app: ContractApp):
    client = contract_app.app.test_client()
    response = client.get(f"/v1/policies/demo-shop/privacy-policy/{2**63}")  # both engines
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
