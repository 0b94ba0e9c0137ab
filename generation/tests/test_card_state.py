"""After a reload, the generate page's cards say what the live page said: a queued card its
place in line and ETA, a running one its step, a cancelled or failed one that its credits came
back."""

import html
import re
import time

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from generation.fleet import WorkerStatus, worker_heartbeat_write
from generation.models import DiffusionModel, Generation
from generation.services.transitions import generation_fail
from testing.api import generation_submitted
from testing.pools import pool_reported


def card_states(client: Client) -> dict[str, str]:
    """Each card's state line on the generate page, by generation id."""
    page = client.get("/")
    assert page.status_code == 200
    cards = re.findall(
        r'<article class="generation" data-id="([^"]+)".*?<p class="state"[^>]*>(.*?)</p>',
        page.content.decode(),
        flags=re.S,
    )
    return {generation_id: html.unescape(state).strip() for generation_id, state in cards}


def worker_up(seconds_per_image: float) -> None:
    worker_heartbeat_write(
        WorkerStatus(
            name="gpu-1",
            host="box",
            pid=1,
            device="cuda",
            models=["tiny-demo"],
            started_at=time.time(),
            current_generations=["another"],
            seconds_per_image={"tiny-demo": seconds_per_image},
            pool="default",
            instance="gpu-1",
        )
    )


def test_queued_cards_show_their_place_and_eta_from_the_first_paint(
    transactional_db: None, tiny_model: DiffusionModel, alice_client: Client
) -> None:
    worker_up(seconds_per_image=4.0)
    first = generation_submitted(alice_client)
    second = generation_submitted(alice_client, count=2)

    states = card_states(alice_client)

    assert states[first] == "Position 1 in the queue · ready in about 4 s"
    assert states[second] == "Position 2 in the queue · ready in about 12 s"


def test_a_queued_card_says_when_it_waits_for_a_gpu_to_start(
    transactional_db: None, tiny_model: DiffusionModel, alice_client: Client
) -> None:
    generation_id = generation_submitted(alice_client)
    assert card_states(alice_client)[generation_id] == "Position 1: waiting for a GPU to start"

    pool_reported(starting=1, starting_since=time.time() - 15, desired=1)
    assert card_states(alice_client)[generation_id] == ("Position 1: starting a GPU, about 45 s")


def test_a_running_card_shows_its_step(
    transactional_db: None, tiny_model: DiffusionModel, alice_client: Client
) -> None:
    generation_id = generation_submitted(alice_client, steps=20)
    # As a worker's progress report leaves it.
    Generation.objects.filter(id=generation_id).update(status="running", progress_step=7)

    assert card_states(alice_client)[generation_id] == "Step 7 of 20"


def test_a_cancelled_card_says_its_credits_came_back(
    transactional_db: None, tiny_model: DiffusionModel, alice_client: Client, user: User
) -> None:
    generation_id = generation_submitted(alice_client, count=3)
    cancelled = alice_client.post(f"/api/v1/generations/{generation_id}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["credits_charged"] == 3

    assert card_states(alice_client)[generation_id] == "Cancelled: your 3 credits came back."


def test_a_failed_card_gives_the_reason_and_says_its_credits_came_back(
    transactional_db: None, tiny_model: DiffusionModel, alice_client: Client
) -> None:
    one = generation_submitted(alice_client)
    two = generation_submitted(alice_client, count=2)
    generation_fail(generation_id=one, error="The GPU ran out of memory")
    generation_fail(generation_id=two, error="The worker stopped. Please try again.")

    states = card_states(alice_client)

    assert states[one] == "Failed: The GPU ran out of memory. Your 1 credit came back."
    assert states[two] == "Failed: The worker stopped. Please try again. Your 2 credits came back."


def test_the_page_costs_the_same_queries_however_many_cards_wait(
    transactional_db: None, tiny_model: DiffusionModel, alice_client: Client
) -> None:
    worker_up(seconds_per_image=4.0)
    generation_submitted(alice_client)
    alice_client.get("/")
    with CaptureQueriesContext(connection) as one_waiting:
        alice_client.get("/")
    for _ in range(4):
        generation_submitted(alice_client)
    with CaptureQueriesContext(connection) as five_waiting:
        states = card_states(alice_client)

    assert sorted(states.values())[-1] == "Position 5 in the queue · ready in about 20 s"
    assert len(five_waiting) == len(one_waiting)
