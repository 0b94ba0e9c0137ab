"""/metrics gives operators queue depth, generations by status, timings, workers and the credits
charged and refunded, in Prometheus' text format; it is not public."""

import time
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from gallery.tests.factories import generation_make
from generation.fleet import WorkerStatus, worker_heartbeat_remove, worker_heartbeat_write
from generation.models import DiffusionModel
from testing.api import generation_post
from testing.pools import pool_reported

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: Client, **headers: str) -> Series:
    """What Prometheus would store from one scrape: each series by name and labels."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float:
    return series[(name, frozenset(labels.items()))]


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
    generation_make(
        user=user,
        model=tiny_model,
        started_at=now - timedelta(seconds=3),
        finished_at=now,
    )
    generation_make(user=user, model=tiny_model, status="failed", finished_at=now)

    series = scrape(admin_client)

    assert value(series, "rollerai_queue_jobs", model="tiny-demo", priority="normal") == 2
    assert value(series, "rollerai_queue_jobs", model="tiny-demo", priority="high") == 0
    assert value(series, "rollerai_generations_unfinished", status="queued") == 2
    assert value(series, "rollerai_generations_unfinished", status="running") == 0
    assert value(series, "rollerai_generations_finished_last_hour", status="succeeded") == 1
    assert value(series, "rollerai_generations_finished_last_hour", status="failed") == 1
    assert value(series, "rollerai_generations_finished_last_hour", status="canceled") == 0
    assert value(series, "rollerai_generation_run_seconds", quantile="0.5") == 3
    assert value(series, "rollerai_generation_run_seconds_count") == 1
    assert value(series, "rollerai_workers") == 0


def test_credits_debited_and_refunded_are_counted_from_the_ledger(
    transactional_db: None, admin_client: Client, alice_client: Client, tiny_model: DiffusionModel
) -> None:
    cancelled = generation_post(alice_client, count=3).json()["id"]
    generation_post(alice_client, count=2)
    assert alice_client.post(f"/api/v1/generations/{cancelled}/cancel").status_code == 200

    series = scrape(admin_client)

    assert value(series, "rollerai_credits_debited_total") == 5
    assert value(series, "rollerai_credits_refunded_total") == 3


def test_a_worker_name_with_quotes_backslashes_and_newlines_comes_out_escaped(
    admin_client: Client, db: None
) -> None:
    # `rungpuworker --name` is free text; the heartbeat carries it verbatim.
    name = 'gpu "one"\\two\nthree'
    worker_heartbeat_write(
        WorkerStatus(
            name=name,
            host="box",
            pid=1,
            device="cpu",
            models=["tiny-demo"],
            started_at=time.time(),
            seconds_per_image={"tiny-demo": 1.5},
        )
    )
    try:
        response = admin_client.get("/metrics")
        series = scrape(admin_client)
    finally:
        worker_heartbeat_remove(name)

    assert 'worker="gpu \\"one\\"\\\\two\\nthree"' in response.content.decode()
    assert value(series, "rollerai_worker_seconds_per_image", worker=name, model="tiny-demo") == 1.5
    assert value(series, "rollerai_workers") == 1


def test_it_is_refused_without_staff_or_the_token(
    client: Client, alice_client: Client, settings: Any, db: None
) -> None:
    settings.METRICS_TOKEN = "scrape-me"

    assert client.get("/metrics").status_code == 403
    assert alice_client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert value(scrape(client, Authorization="Bearer scrape-me"), "rollerai_workers") == 0


def test_without_a_token_configured_a_bearer_header_is_refused(
    client: Client, settings: Any, db: None
) -> None:
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


def test_each_autoscaled_pool_is_counted_up_starting_and_busy_with_its_starts_and_stops(
    admin_client: Client, db: None
) -> None:
    pool_reported(
        name="sdxl",
        backend="kubernetes",
        models=["sdxl"],
        min_workers=1,
        max_workers=6,
        live=3,
        starting=2,
        starting_since=time.time(),
        busy=3,
        desired=5,
        queued_jobs=40,
        cold_start_seconds=415.0,
        starts=11,
        stops=6,
        decisions=9,
    )

    series = scrape(admin_client)

    assert value(series, "rollerai_pool_workers", pool="sdxl", state="live") == 3
    assert value(series, "rollerai_pool_workers", pool="sdxl", state="starting") == 2
    assert value(series, "rollerai_pool_workers", pool="sdxl", state="busy") == 3
    assert value(series, "rollerai_pool_size_limit", pool="sdxl", limit="desired") == 5
    assert value(series, "rollerai_pool_size_limit", pool="sdxl", limit="max") == 6
    assert value(series, "rollerai_pool_worker_starts_total", pool="sdxl") == 11
    assert value(series, "rollerai_pool_worker_stops_total", pool="sdxl") == 6
    assert value(series, "rollerai_pool_decisions_total", pool="sdxl") == 9
    assert value(series, "rollerai_pool_cold_start_seconds", pool="sdxl") == 415
    assert value(series, "rollerai_pool_backend_failing", pool="sdxl") == 0
