"""Waiting users see their place in line and, once a worker's speed is known, an ETA; both are
pushed as the line moves, not polled."""

from pathlib import Path

from django.contrib.auth.models import User
from django.test import Client

from generation.models import DiffusionModel
from testing.api import generation_post
from testing.events import EventRecorder
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
