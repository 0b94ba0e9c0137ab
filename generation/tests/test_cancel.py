"""Cancelling: a queued generation leaves its queue at once, a running one stops at the next
step; either way the credits come back exactly once."""

import django_rq
from django.contrib.auth.models import User
from django.test import Client
from rq import Queue

from billing.models import CreditEntry
from billing.selectors import balance_for
from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation
from testing.api import generation_post
from testing.processes import RunningProcess
from testing.waiting import generation_wait


def cancel(client: Client, generation_id: str) -> object:
    return client.post(f"/api/v1/generations/{generation_id}/cancel")


def test_a_queued_generation_is_cancelled_at_once_and_refunded(
    transactional_db: None, alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    generation_id = generation_post(alice_client, count=3).json()["id"]
    queue = Queue("model-tiny-demo", connection=django_rq.get_connection("default"))
    assert queue.job_ids == [generation_id]
    assert balance_for(user) == 7

    response = cancel(alice_client, generation_id)

    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert queue.job_ids == []
    assert balance_for(user) == 10
    again = cancel(alice_client, generation_id)
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "already_finished",
        "message": "This generation has already canceled; there is nothing to cancel.",
        "field": None,
    }
    assert balance_for(user) == 10
    assert CreditEntry.objects.filter(kind="generation_refund").count() == 1


def test_a_running_generation_stops_at_the_next_step_and_is_refunded(
    gpu_worker: RunningProcess, alice_client: Client, user: User
) -> None:
    generation_id = generation_post(alice_client, width=512, height=512, steps=50).json()["id"]
    generation_wait(generation_id, "running")

    response = cancel(alice_client, generation_id)

    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert balance_for(user) == 10
    gpu_worker.wait_for_output(f"Generation(s) {generation_id} cancelled while running")
    generation = Generation.objects.get(id=generation_id)
    assert generation.status == "canceled"
    assert generation.progress_step < 50
    assert not generation.images.exists()
    assert CreditEntry.objects.filter(kind="generation_refund").count() == 1


def test_a_finished_generation_cannot_be_cancelled(
    alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model, prompt="done")

    response = cancel(alice_client, str(generation.id))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_finished"
    assert balance_for(user) == 10


def test_nobody_else_can_cancel_it(
    alice_client: Client, bob_client: Client, tiny_model: DiffusionModel
) -> None:
    generation_id = generation_post(alice_client).json()["id"]

    assert cancel(bob_client, generation_id).status_code == 404
    assert Generation.objects.get(id=generation_id).status == "queued"
