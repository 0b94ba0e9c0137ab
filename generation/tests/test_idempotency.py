"""An Idempotency-Key makes a retried submit safe: one generation, one charge."""

import threading
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from billing.models import CreditEntry
from billing.selectors import balance_for
from generation.models import DiffusionModel, Generation
from testing.api import generation_post

KEY = {"Idempotency-Key": "retry-me-7f3a"}


def test_the_same_key_twice_returns_the_first_generation_and_charges_once(
    alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    first = generation_post(alice_client, headers=KEY, count=2)
    second = generation_post(alice_client, headers=KEY, count=2)

    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert Generation.objects.count() == 1
    assert CreditEntry.objects.filter(kind="generation_debit").count() == 1
    assert balance_for(user) == 8


def test_the_same_key_with_another_prompt_is_a_conflict(
    alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    generation_post(alice_client, headers=KEY, prompt="a red fox")

    response = generation_post(alice_client, headers=KEY, prompt="a blue whale")

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "idempotency_key_reused",
        "message": "This Idempotency-Key was already used for a different request.",
        "field": None,
    }
    assert Generation.objects.count() == 1
    assert balance_for(user) == 9


def test_keys_are_per_user(
    alice_client: Client, bob_client: Client, tiny_model: DiffusionModel
) -> None:
    alices = generation_post(alice_client, headers=KEY).json()
    bobs = generation_post(bob_client, headers=KEY).json()

    assert alices["id"] != bobs["id"]


def test_concurrent_retries_with_one_key_make_one_generation(
    transactional_db: None, user: User, tiny_model: DiffusionModel
) -> None:
    start = threading.Barrier(5)
    ids: list[Any] = []

    def submit() -> None:
        client = Client()
        client.force_login(user)
        start.wait()
        ids.append(generation_post(client, headers=KEY).json()["id"])
        connection.close()

    threads = [threading.Thread(target=submit) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(ids)) == 1 and len(ids) == 5
    assert balance_for(user) == 9
