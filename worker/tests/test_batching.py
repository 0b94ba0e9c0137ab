"""Compatible waiting jobs share one pipeline call, and each still gets the image it would have
got alone."""

import io
import time
from pathlib import Path

import numpy as np
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from generation.fleet import WorkerStatus, workers_live
from generation.models import DiffusionModel, Generation
from testing.api import generation_post
from testing.processes import gpu_worker_start
from testing.waiting import generation_wait

PROMPTS = ["a red fox", "a blue whale", "a green hill at noon", "an old lighthouse"]


def submit_all(client: Client) -> list[str]:
    return [
        generation_post(
            client, prompt=prompt, seed=100 + n, width=128, height=128, steps=10
        ).json()["id"]
        for n, prompt in enumerate(PROMPTS)
    ]


def pixels(generation_id: str) -> np.ndarray:
    image = Generation.objects.get(id=generation_id).images.get()
    with default_storage.open(image.image.name) as stored:
        return np.asarray(Image.open(io.BytesIO(stored.read())).convert("RGB"), dtype=np.int16)


def heartbeat_after(name: str, *, jobs_done: int) -> WorkerStatus:
    """The worker's heartbeat once it reports `jobs_done` jobs (it reports right after each)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = next((status for status in workers_live() if status.name == name), None)
        if status is not None and status.jobs_done >= jobs_done:
            return status
        time.sleep(0.05)
    raise AssertionError(f"{name} never reported {jobs_done} jobs done")


def run_with_worker(tmp_path: Path, name: str, batch_size: int, ids: list[str]) -> str:
    worker = gpu_worker_start(
        tmp_path / f"{name}.log", "--batch-size", str(batch_size), "--name", name
    )
    try:
        for generation_id in ids:
            assert generation_wait(generation_id, "succeeded", timeout=120).worker_name == name
        assert heartbeat_after(name, jobs_done=len(ids)).largest_batch == batch_size
    finally:
        worker.stop()
    return worker.output()


def test_four_compatible_jobs_run_in_one_call_and_match_running_alone(
    transactional_db: None,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    alice_client: Client,
    tmp_path: Path,
) -> None:
    batched = submit_all(alice_client)
    log = run_with_worker(tmp_path, "batching", 4, batched)
    alone = submit_all(alice_client)
    run_with_worker(tmp_path, "one-by-one", 1, alone)

    assert "Batch of 4 generations (4 images) in one pipeline call" in log
    for together, single in zip(batched, alone, strict=True):
        difference = np.abs(pixels(together) - pixels(single))
        # Batched matrix maths rounds a little differently on the CPU: a handful of pixels may
        # be off by one level, nothing more.
        assert difference.max() <= 1
        assert (difference > 0).mean() < 0.01
