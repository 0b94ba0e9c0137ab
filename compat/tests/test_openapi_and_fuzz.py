"""Both compatible APIs are documented (each its own OpenAPI document and tag), and generated
requests, valid and not, never get a server error: a refusal names its field in the API's own
shape."""

from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from django.contrib.auth.models import User
from openapi_spec_validator import validate
from schemathesis import Case, GenerationMode
from schemathesis.config import SchemathesisConfig

from billing.models import CreditEntry
from billing.services.credits import credits_grant
from testing.processes import web_server_start

SEED = 20261203
EXAMPLES_PER_OPERATION = 15
DOCUMENTS = {
    "/v1/openapi.json": ("OpenAI Images API", {"/v1/images/generations", "/v1/images/edits"}),
    "/sdapi/v1/openapi.json": ("AUTOMATIC1111 API", {"/sdapi/v1/txt2img", "/sdapi/v1/progress"}),
}
# The wait for images runs out at once here (no GPU is up): 504, the documented answer.
WAIT_RAN_OUT = 504


@pytest.fixture
def live_url(transactional_db: None, tmp_path: Path, tiny_model: object) -> Any:
    server, url = web_server_start(
        tmp_path / "live.log",
        env={
            "COMPAT_WAIT_SECONDS": "0",
            "SUBMISSIONS_PER_MINUTE": "1000",
            "MAX_ACTIVE_GENERATIONS": "1000",
        },
    )
    yield url
    server.stop()


@pytest.mark.parametrize("path", DOCUMENTS)
def test_each_api_has_its_own_valid_document(live_url: str, path: str) -> None:
    document = httpx.get(live_url + path).json()
    validate(document)
    tag, some_paths = DOCUMENTS[path]
    assert some_paths <= set(document["paths"])
    tags = {
        tag
        for operations in document["paths"].values()
        for op in operations.values()
        for tag in op["tags"]
    }
    assert tags == {tag}


def test_generated_requests_never_get_a_server_error(
    live_url: str, user: User, api_key: str
) -> None:
    credits_grant(
        user=user, amount=100_000, kind=CreditEntry.Kind.STAFF_ADJUSTMENT, reference="fuzz"
    )
    auth = {
        "ApiKeyAuth": {"bearer": api_key},
        "KeyAsPassword": {"username": "a", "password": api_key},
    }
    statuses: list[int] = []
    for path in DOCUMENTS:
        config = SchemathesisConfig.from_dict(
            {"seed": SEED, "base-url": live_url, "auth": {"openapi": auth}}
        )
        schema = schemathesis.openapi.from_url(live_url + path, config=config)
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(operation, mode, statuses)
    server_errors = [status for status in statuses if status >= 500 and status != WAIT_RAN_OUT]
    assert server_errors == []
    # Answers of every kind came back: lists, refusals in both shapes, and waits that ran out.
    assert {200, 400, 422, WAIT_RAN_OUT} <= set(statuses), sorted(set(statuses))


def _fuzz(operation: Any, mode: GenerationMode, statuses: list[int]) -> None:
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        print_blob=False,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.seed(SEED)
    def fuzz(case: Case) -> None:
        response = case.call()
        assert response.status_code < 500 or response.status_code == WAIT_RAN_OUT, (
            f"{operation.label}: {response.status_code} {response.text[:500]}"
        )
        statuses.append(response.status_code)

    fuzz()
