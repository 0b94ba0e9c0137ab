"""Compatible waiting jobs share one pipeline call, and each still gets the image it would have
got alone; incompatible ones (another sampler, size, strength, or a start from an image rather
than a prompt) never do."""

import io
import time
from pathlib import Path

import numpy as np
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from generation.fleet import WorkerStatus, workers_live
from generation.models import DiffusionModel, Generation
from generation.services import generation_batch_claim, generation_start
from testing.api import generation_post
from testing.generations import generation_queued, init_image_stored
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


def claimed_with(first: Generation, *, max_images: int = 8) -> set[str]:
    started = generation_start(generation_id=first.id, worker_name="batching")
    assert started is not None
    companions = generation_batch_claim(first=started, max_images=max_images, worker_name="b")
    return {str(generation.id) for generation in companions}


def test_a_batch_never_mixes_samplers_sizes_strengths_or_starts(
    user: User, tiny_model: DiffusionModel
) -> None:
    init = init_image_stored(64, 64, color=(200, 40, 40))
    from_image = {"init_image": init, "strength": 0.6}
    first = generation_queued(user, tiny_model, sampler="euler_a")
    same = generation_queued(user, tiny_model, sampler="euler_a", seed=7, prompt="a red fox")
    for fields in [
        {"sampler": "ddim"},
        {"sampler": ""},  # the model's own scheduler, not Euler a
        {"sampler": "euler_a", "width": 128},
        {"sampler": "euler_a", "kind": Generation.Kind.IMAGE, **from_image},
    ]:
        generation_queued(user, tiny_model, **fields)
    assert claimed_with(first) == {str(same.id)}

    image = generation_queued(user, tiny_model, kind=Generation.Kind.IMAGE, **from_image)
    also_image = generation_queued(user, tiny_model, kind=Generation.Kind.IMAGE, **from_image)
    # Variations and upscales also start from an image: the same pipeline, one call.
    variations = generation_queued(user, tiny_model, kind=Generation.Kind.VARIATIONS, **from_image)
    for fields in [
        {"kind": Generation.Kind.IMAGE, "init_image": init, "strength": 0.5},
        {"kind": Generation.Kind.IMAGE, "sampler": "unipc", **from_image},
        {},  # from a prompt
    ]:
        generation_queued(user, tiny_model, **fields)
    assert claimed_with(image) == {str(also_image.id), str(variations.id)}


def test_naming_the_models_default_sampler_batches_with_naming_none(
    user: User, tiny_model: DiffusionModel
) -> None:
    tiny_model.default_sampler = "dpmpp_2m"
    tiny_model.save()
    first = generation_queued(user, tiny_model)
    named = generation_queued(user, tiny_model, sampler="dpmpp_2m")
    generation_queued(user, tiny_model, sampler="dpmpp_2m_karras")
    assert claimed_with(first) == {str(named.id)}
