"""The GPU worker as a real process: it takes generations from Redis, runs the tiny pipeline and
stores the images; failures end readable; SIGTERM lets the current job finish."""

import io
import signal
import time
from pathlib import Path

from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from billing.selectors import balance_for
from generation.models import DiffusionModel, Generation
from testing.api import generation_submitted
from testing.processes import RunningProcess, gpu_worker_start
from testing.waiting import generation_wait


def test_it_makes_and_stores_images_of_the_requested_size_loading_the_pipeline_once(
    gpu_worker: RunningProcess, alice_client: Client
) -> None:
    sizes = [(64, 64), (128, 64), (64, 96, 2)]
    ids = [
        generation_submitted(
            alice_client, width=size[0], height=size[1], count=size[2] if len(size) > 2 else 1
        )
        for size in sizes
    ]

    for generation_id, size in zip(ids, sizes, strict=True):
        generation = generation_wait(generation_id, "succeeded", "failed")
        assert generation.status == "succeeded", generation.error
        images = list(generation.images.all())
        assert len(images) == (size[2] if len(size) > 2 else 1)
        for index, image in enumerate(images):
            assert image.seed == generation.seed + index
            with default_storage.open(image.image.name) as stored:
                png_bytes = stored.read()
            assert png_bytes.startswith(b"\x89PNG")
            assert Image.open(io.BytesIO(png_bytes)).size == size[:2]
            # The owner downloads exactly the stored bytes through the image view.
            response = alice_client.get(image.url)
            assert response.status_code == 200
            assert response["Content-Type"] == "image/png"
            assert b"".join(response.streaming_content) == png_bytes
            thumbnail = alice_client.get(image.thumbnail_url)
            assert Image.open(io.BytesIO(b"".join(thumbnail.streaming_content))).format == "WEBP"

    assert gpu_worker.output().count("Loaded pipeline 'tiny-demo'") == 1


def test_a_model_that_cannot_be_loaded_fails_the_generation_with_a_readable_error(
    transactional_db: None,
    tiny_model: DiffusionModel,
    alice_client: Client,
    user: User,
    tmp_path: Path,
) -> None:
    DiffusionModel.objects.create(slug="missing", name="Missing", source="/no/such/model/folder")
    worker = gpu_worker_start(tmp_path / "worker.log")
    try:
        generation = generation_wait(
            generation_submitted(alice_client, model="missing"), "failed", "succeeded"
        )
    finally:
        worker.stop()

    assert generation.status == "failed"
    assert generation.error == "The model 'Missing' could not be loaded on the GPU worker."
    assert generation.finished_at is not None
    detail = alice_client.get(f"/api/v1/generations/{generation.id}").json()
    assert detail["status"] == "failed"
    assert detail["error"] == generation.error
    # The cause stays in the worker's log, for operators, and the user gets the credit back.
    assert "Could not load model 'missing' from '/no/such/model/folder'" in worker.output()
    assert balance_for(user) == 10


def test_sigterm_lets_the_running_generation_finish_then_stops(
    gpu_worker: RunningProcess, alice_client: Client
) -> None:
    generation_id = generation_submitted(alice_client, width=512, height=512, steps=30)
    generation_wait(generation_id, "running")

    gpu_worker.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    exit_code = gpu_worker.process.wait(timeout=60)

    assert exit_code == 0
    assert Generation.objects.get(id=generation_id).status == "succeeded"
    assert time.monotonic() - started < 60


def test_sigterm_stops_an_idle_worker_at_once(gpu_worker: RunningProcess) -> None:
    started = time.monotonic()
    gpu_worker.process.send_signal(signal.SIGTERM)

    assert gpu_worker.process.wait(timeout=10) == 0
    assert time.monotonic() - started < 10


def test_a_second_sigterm_hands_the_running_generation_back_to_the_queue(
    gpu_worker: RunningProcess, alice_client: Client, tmp_path: Path
) -> None:
    generation_id = generation_submitted(alice_client, width=512, height=512, steps=50)
    generation_wait(generation_id, "running")

    gpu_worker.process.send_signal(signal.SIGTERM)
    # RQ takes a second signal within a second for a duplicate of the first.
    time.sleep(1.5)
    gpu_worker.process.send_signal(signal.SIGTERM)
    gpu_worker.process.wait(timeout=30)

    handed_back = Generation.objects.get(id=generation_id)
    assert handed_back.status == "queued"
    # The cut-short run does not count against its one retry.
    assert handed_back.attempts == 0
    other = gpu_worker_start(tmp_path / "other.log")
    try:
        finished = generation_wait(generation_id, "succeeded", "failed", timeout=120)
    finally:
        other.stop()
    assert finished.status == "succeeded" and finished.attempts == 1
