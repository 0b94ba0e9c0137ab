"""POST /api/v1/generations: every invalid field is refused with a clear error; valid requests are
recorded as queued and put on their model's RQ queue."""

import json
from typing import Any

import django_rq
import pytest
from django.test import Client
from rq import Queue

from generation.models import DiffusionModel, Generation

URL = "/api/v1/generations"


def post(client: Client, body: Any, content_type: str = "application/json") -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type=content_type)


def valid(**fields: Any) -> dict[str, Any]:
    return {"prompt": "a lighthouse at dawn", **fields}


@pytest.mark.parametrize(
    ("body", "field", "code", "message"),
    [
        ({}, "prompt", "required", "Prompt is required."),
        ({"prompt": ""}, "prompt", "required", "Prompt is required."),
        ({"prompt": "   \u3000 "}, "prompt", "required", "Prompt is required."),
        (
            {"prompt": "x" * 1001},
            "prompt",
            "too_long",
            "Prompt must be at most 1000 characters (it has 1001).",
        ),
        (
            {"prompt": "a cat\x00"},
            "prompt",
            "control_characters",
            "Prompt must not contain control characters such as line breaks or tabs.",
        ),
        (
            {"prompt": "a\ncat"},
            "prompt",
            "control_characters",
            "Prompt must not contain control characters such as line breaks or tabs.",
        ),
        ({"prompt": 42}, "prompt", "not_text", "Prompt must be text."),
        (
            valid(negative_prompt="blurry\x07"),
            "negative_prompt",
            "control_characters",
            "Negative prompt must not contain control characters such as line breaks or tabs.",
        ),
        (valid(model="no-such-model"), "model", "unknown_model", "Unknown model 'no-such-model'."),
        (valid(model="retired"), "model", "unknown_model", "Unknown model 'retired'."),
        (valid(width=100), "width", "not_multiple_of_8", "Width must be a multiple of 8."),
        (valid(height=260), "height", "not_multiple_of_8", "Height must be a multiple of 8."),
        (valid(width=520), "width", "out_of_range", "Width must be between 64 and 512."),
        (valid(height=56), "height", "out_of_range", "Height must be between 64 and 512."),
        (valid(width="256"), "width", "not_an_integer", "Width must be a whole number."),
        (valid(steps=0), "steps", "out_of_range", "Steps must be between 1 and 50."),
        (valid(steps=51), "steps", "out_of_range", "Steps must be between 1 and 50."),
        (valid(steps=4.5), "steps", "not_an_integer", "Steps must be a whole number."),
        (valid(guidance=-1), "guidance", "out_of_range", "Guidance must be between 0 and 20."),
        (valid(guidance=20.5), "guidance", "out_of_range", "Guidance must be between 0 and 20."),
        (valid(guidance="high"), "guidance", "not_a_number", "Guidance must be a number."),
        (valid(count=0), "count", "out_of_range", "Images must be between 1 and 4."),
        (valid(count=5), "count", "out_of_range", "Images must be between 1 and 4."),
        (valid(seed="lucky"), "seed", "not_an_integer", "Seed must be a whole number."),
        (valid(seed=1.5), "seed", "not_an_integer", "Seed must be a whole number."),
        (valid(seed=True), "seed", "not_an_integer", "Seed must be a whole number."),
        (valid(seed=-1), "seed", "out_of_range", "Seed must be between 0 and 4294967295."),
        (valid(colour="red"), "colour", "unknown_field", "Unknown field 'colour'."),
    ],
)
def test_it_refuses_each_invalid_field_with_a_clear_error(
    alice_client: Client,
    tiny_model: DiffusionModel,
    body: dict[str, Any],
    field: str,
    code: str,
    message: str,
) -> None:
    DiffusionModel.objects.create(slug="retired", name="Retired", source="x", enabled=False)

    response = post(alice_client, body)

    assert response.status_code == 400
    assert response.json() == {"error": {"code": code, "message": message, "field": field}}
    assert not Generation.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "code", "message"),
    [
        ("{not json", "application/json", "malformed_json", "The request body is not valid JSON."),
        (
            "[1, 2]",
            "application/json",
            "invalid_body",
            "The request body must be a JSON object.",
        ),
        (
            "prompt=a+cat",
            "application/x-www-form-urlencoded",
            "unsupported_content_type",
            "Send the request body as JSON with Content-Type: application/json.",
        ),
    ],
)
def test_it_refuses_bodies_that_are_not_a_json_object(
    alice_client: Client,
    tiny_model: DiffusionModel,
    body: str,
    content_type: str,
    code: str,
    message: str,
) -> None:
    response = post(alice_client, body, content_type=content_type)

    assert response.status_code == 400
    assert response.json() == {"error": {"code": code, "message": message, "field": None}}


def test_it_refuses_a_body_over_the_size_limit(
    alice_client: Client, tiny_model: DiffusionModel
) -> None:
    # A submission may carry an init image, so its limit is 6 MB (MAX_SUBMIT_BODY_BYTES).
    response = post(alice_client, valid(negative_prompt="x" * 6_300_000))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_a_body_over_the_general_limit_is_only_checked_by_its_fields(
    alice_client: Client, tiny_model: DiffusionModel
) -> None:
    response = post(alice_client, valid(negative_prompt="x" * 100_000))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_long"


def test_it_requires_signing_in(client: Client, tiny_model: DiffusionModel) -> None:
    response = post(client, valid())

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "not_authenticated",
        "message": "Sign in to use the API.",
        "field": None,
    }


def test_it_queues_a_valid_request_on_its_models_queue(
    transactional_db: None, alice_client: Client, tiny_model: DiffusionModel
) -> None:
    response = post(alice_client, valid(prompt="  a red fox  ", width=128, seed=7, count=2))

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["position"] == 1
    assert body["prompt"] == "a red fox"
    assert (body["model"], body["width"], body["height"]) == ("tiny-demo", 128, 64)
    assert (body["steps"], body["seed"], body["count"]) == (4, 7, 2)
    assert body["progress"] == {"step": 0, "total": 4}
    queue = Queue("model-tiny-demo", connection=django_rq.get_connection("default"))
    assert queue.job_ids == [body["id"]]
    assert queue.fetch_job(body["id"]).func_name == "worker.jobs.run_generation"


def test_it_picks_a_seed_when_none_is_given_so_the_image_can_be_remade(
    alice_client: Client, tiny_model: DiffusionModel
) -> None:
    first = post(alice_client, valid()).json()
    second = post(alice_client, valid()).json()

    assert isinstance(first["seed"], int) and isinstance(second["seed"], int)
    assert first["seed"] != second["seed"]


def test_the_second_queued_generation_is_second_in_line(
    transactional_db: None, alice_client: Client, tiny_model: DiffusionModel
) -> None:
    post(alice_client, valid())
    second = post(alice_client, valid()).json()

    assert second["position"] == 2
    assert alice_client.get(f"{URL}/{second['id']}").json()["position"] == 2
