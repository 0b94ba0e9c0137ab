"""Waiting users see their place in line and, once a worker's speed is known, an ETA; both are
pushed as the line moves, not polled."""

import time
from pathlib import Path

from django.contrib.auth.models import User
from django.test import Client

from generation.fleet import WorkerStatus, worker_heartbeat_write
from generation.models import DiffusionModel
from testing.api import generation_post
from testing.events import EventRecorder
from testing.pools import pool_reported
from testing.processes import gpu_worker_start
from testing.waiting import generation_wait


def test_positions_count_down_live_and_an_eta_appears(
    transactional_db: None,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    alice_client: Client,
    user: User,
    tmp_path: Path,
) -> None:
    recorder = EventRecorder(user.pk)
    # No worker yet: everything waits, and the page says a GPU has to start first.
    ids = [
        generation_post(alice_client, width=128, height=128, steps=20).json()["id"]
        for _ in range(5)
    ]
    waiting = [alice_client.get(f"/api/v1/generations/{gid}").json() for gid in ids]
    assert [generation["position"] for generation in waiting] == [1, 2, 3, 4, 5]
    assert all(generation["waiting_for_worker"] for generation in waiting)
    assert all(generation["eta_seconds"] is None for generation in waiting)

    # Positions go out as often as a worker may send them, so each move can be seen here.
    worker = gpu_worker_start(
        tmp_path / "worker.log", "--batch-size", "1", STANDINGS_INTERVAL_SECONDS="0.05"
    )
    try:
        for generation_id in ids:
            generation_wait(generation_id, "succeeded", timeout=120)
    finally:
        worker.stop()
        recorder.close()

    last = recorder.of(ids[-1])
    positions = [event["position"] for event in last if event["status"] == "queued"]
    assert positions[0] == 5
    assert positions == sorted(positions, reverse=True)
    assert positions[-1] == 1
    assert len(set(positions)) >= 3, positions
    etas = [event.get("eta_seconds") for event in last if event["status"] == "queued"]
    assert etas[0] is None
    assert any(eta is not None and eta > 0 for eta in etas), etas
    # Once a worker is up, nobody is told to wait for a GPU any more.
    queued = [event for event in last if event["status"] == "queued"]
    assert queued[0]["waiting_for_worker"] and not queued[-1]["waiting_for_worker"]


def test_while_a_gpu_starts_the_wait_says_so_with_the_time_left(
    transactional_db: None, tiny_model: DiffusionModel, alice_client: Client
) -> None:
    generation_id = generation_post(alice_client).json()["id"]
    before = alice_client.get(f"/api/v1/generations/{generation_id}").json()
    assert before["waiting_for_worker"] and before["gpu_starting_seconds"] is None

    pool_reported(starting=1, starting_since=time.time() - 15, desired=1)

    during = alice_client.get(f"/api/v1/generations/{generation_id}").json()
    assert during["waiting_for_worker"] is True
    assert 44 <= during["gpu_starting_seconds"] <= 45
    # The speed is not known before a worker has run anything: no ETA yet, only the start.
    assert during["eta_seconds"] is None


def test_with_every_gpu_the_pool_may_run_busy_the_wait_says_no_more_will_start(
    transactional_db: None, tiny_model: DiffusionModel, alice_client: Client
) -> None:
    worker_heartbeat_write(
        WorkerStatus(
            name="gpu-1",
            host="box",
            pid=1,
            device="cuda",
            models=["tiny-demo"],
            started_at=time.time(),
            current_generations=["another"],
            seconds_per_image={"tiny-demo": 4.0},
            pool="default",
            instance="gpu-1",
        )
    )
    pool_reported(live=1, busy=1, desired=1, seconds_per_image=4.0)

    generation = generation_post(alice_client, count=2).json()
    detail = alice_client.get(f"/api/v1/generations/{generation['id']}").json()

    assert detail["at_max"] is True
    assert detail["waiting_for_worker"] is False and detail["gpu_starting_seconds"] is None
    assert detail["eta_seconds"] == 8
