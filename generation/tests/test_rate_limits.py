"""Per-user submission limits and per-address sign-in limits answer 429 with Retry-After."""

from typing import Any

from django.test import Client

from conftest import PASSWORD
from generation.models import DiffusionModel
from testing.api import generation_post


def test_submissions_past_the_per_minute_limit_get_429(
    alice_client: Client, tiny_model: DiffusionModel, settings: Any
) -> None:
    settings.SUBMISSIONS_PER_MINUTE = 3
    for _ in range(3):
        assert generation_post(alice_client).status_code == 202

    response = generation_post(alice_client)

    assert response.status_code == 429
    assert response.json()["error"] == {
        "code": "rate_limited",
        "message": "You can start at most 3 generations a minute.",
        "field": None,
    }
    assert 1 <= int(response["Retry-After"]) <= 60


def test_too_many_active_generations_get_429(
    alice_client: Client, tiny_model: DiffusionModel, settings: Any
) -> None:
    settings.MAX_ACTIVE_GENERATIONS = 2
    generation_post(alice_client)
    generation_post(alice_client)

    response = generation_post(alice_client)

    assert response.status_code == 429
    assert response.json()["error"]["message"] == (
        "You already have 2 generations waiting or running. Start more when one of them is done."
    )
    assert response["Retry-After"] == "10"


def test_the_limit_is_per_user(
    alice_client: Client, bob_client: Client, tiny_model: DiffusionModel, settings: Any
) -> None:
    settings.SUBMISSIONS_PER_MINUTE = 1
    assert generation_post(alice_client).status_code == 202

    assert generation_post(bob_client).status_code == 202


def test_sign_in_attempts_past_the_limit_get_429(user: Any, client: Client, settings: Any) -> None:
    settings.SIGN_INS_PER_MINUTE = 2
    for _ in range(2):
        wrong = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        assert wrong.status_code == 200

    blocked = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert blocked.status_code == 429
    assert "Too many sign-in attempts from your network." in blocked.content.decode()
    assert "_auth_user_id" not in client.session
