"""Places in line stay exact however long the line is: each waiting user's position counts only
those really ahead of them, through cancellations and generations that ended while waiting."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from billing.models import CreditEntry
from billing.services.credits import credits_grant
from generation.fleet import WorkerStatus, worker_heartbeat_write
from generation.models import DiffusionModel, Generation
from generation.services import generation_fail, standings_publish
from testing.api import generation_submitted

# Longer than the places counted exactly (generation.line.EXACT_PLACES), so the back is estimated.
LINE = 80


@pytest.fixture
def long_line(
    transactional_db: None,
    settings: Settings,
    tiny_model: DiffusionModel,
    alice_client: Client,
    user: User,
) -> list[str]:
    settings.MAX_ACTIVE_GENERATIONS = settings.SUBMISSIONS_PER_MINUTE = 1000
    credits_grant(user=user, amount=1000, kind=CreditEntry.Kind.STAFF_ADJUSTMENT, reference="line")
    # One image per second on one worker: an ETA in seconds is then the images until done.
    worker_heartbeat_write(
        WorkerStatus(
            name="steady", host="test", pid=1, device="cpu", models=[tiny_model.slug],
            started_at=0, seconds_per_image={tiny_model.slug: 1.0},
        )
    )  # fmt: skip
    # Every third asks for two images.
    return [
        generation_submitted(alice_client, count=2 if place % 3 == 0 else 1)
        for place in range(LINE)
    ]


def standing(client: Client, generation_id: str) -> tuple[Any, Any]:
    body = client.get(f"/api/v1/generations/{generation_id}").json()
    return body["position"], body["eta_seconds"]


def images_until(place: int) -> int:
    """Images of the first `place` generations in the line as submitted."""
    return sum(2 if ahead % 3 == 0 else 1 for ahead in range(place))


def test_every_place_in_a_long_line_is_exact(long_line: list[str], alice_client: Client) -> None:
    places = [standing(alice_client, gid) for gid in long_line]

    assert [position for position, _ in places] == list(range(1, LINE + 1))
    # Exact for the first 50 places; beyond, an estimate from the average in front.
    assert [eta for _, eta in places[:50]] == [images_until(place) for place in range(1, 51)]
    for place, (_, eta) in enumerate(places[50:], start=51):
        assert abs(eta - images_until(place)) <= 2, (place, eta)


def test_a_cancellation_moves_everyone_behind_up_at_once(
    long_line: list[str], alice_client: Client
) -> None:
    cancelled = alice_client.post(f"/api/v1/generations/{long_line[2]}/cancel")
    assert cancelled.status_code == 200

    assert standing(alice_client, long_line[1]) == (2, images_until(2))
    assert standing(alice_client, long_line[3]) == (3, images_until(4) - 1)
    assert standing(alice_client, long_line[-1])[0] == LINE - 1


def test_a_generation_that_failed_while_waiting_no_longer_counts(
    long_line: list[str], alice_client: Client
) -> None:
    generation_fail(generation_id=long_line[0], error="The model was withdrawn.")

    assert standing(alice_client, long_line[1])[0] == 1
    assert standing(alice_client, long_line[-1])[0] == LINE - 1


def test_ended_generations_left_in_line_by_an_outage_are_cleared_from_the_front(
    long_line: list[str], alice_client: Client, tiny_model: DiffusionModel
) -> None:
    # As if Redis had been unreachable as they ended: still in line there.
    Generation.objects.filter(id__in=long_line[:2]).update(status=Generation.Status.CANCELED)

    standings_publish(tiny_model)

    assert standing(alice_client, long_line[2]) == (1, images_until(3) - images_until(2))
    assert standing(alice_client, long_line[-1])[0] == LINE - 2
