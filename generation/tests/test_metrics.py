"""/metrics gives operators queue depth, generations by status, timings and workers in
Prometheus' text format; it is not public."""

from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from generation.models import DiffusionModel, Generation
from testing.api import generation_post


def test_staff_read_queue_depth_statuses_and_timings(
    transactional_db: None,
    admin_client: Client,
    alice_client: Client,
    user: Any,
    tiny_model: DiffusionModel,
) -> None:
    generation_post(alice_client)
    generation_post(alice_client)
    now = timezone.now()
    Generation.objects.create(
        user=user,
        model=tiny_model,
        prompt="done",
        width=64,
        height=64,
        steps=4,
        guidance=7,
        seed=1,
        status="succeeded",
        started_at=now - timedelta(seconds=3),
        finished_at=now,
    )

    response = admin_client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    lines = response.content.decode().splitlines()
    assert 'rollerai_queue_jobs{model="tiny-demo",priority="normal"} 2' in lines
    assert 'rollerai_generations_unfinished{status="queued"} 2' in lines
    assert 'rollerai_generations_finished_last_hour{status="succeeded"} 1' in lines
    assert 'rollerai_generation_run_seconds{quantile="0.5"} 3' in lines
    assert "rollerai_workers 0" in lines


def test_it_is_refused_without_staff_or_the_token(
    client: Client, alice_client: Client, settings: Any, db: None
) -> None:
    settings.METRICS_TOKEN = "scrape-me"

    assert client.get("/metrics").status_code == 403
    assert alice_client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 200
