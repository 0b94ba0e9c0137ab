"""Generations that start from an image: run by the image-to-image pipeline made from the loaded
one (no second load, no second copy of the weights), from the init image in storage, with
progress that ends at the steps the user asked for."""

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from diffusers import StableDiffusionImg2ImgPipeline
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from generation.models import DiffusionModel, Generation
from testing.api import generation_submitted
from testing.events import EventRecorder
from testing.generations import generation_queued, init_image_stored
from testing.processes import RunningProcess
from testing.waiting import generation_wait
from worker.pipelines import PipelineCache
from worker.runner import InitImageUnreadable, generation_run
from worker.state import WorkerState


def stored_image(generation: Generation) -> Image.Image:
    with default_storage.open(generation.images.get().image.name) as stored:
        image = Image.open(io.BytesIO(stored.read()))
        image.load()
    return image


def test_the_image_to_image_pipeline_is_made_from_the_loaded_one_and_dropped_with_it(
    db: None, tiny_model: DiffusionModel, tiny_model_folder: Path
) -> None:
    cache = PipelineCache(capacity=1, device="cpu")
    text = cache.get(tiny_model)
    image = cache.image_to_image(tiny_model)

    assert isinstance(image, StableDiffusionImg2ImgPipeline)
    assert cache.loads == 1
    for name in ("unet", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert getattr(image, name) is getattr(text, name)
    assert image._progress_bar_config == {"disable": True}
    assert cache.image_to_image(tiny_model) is image
    assert cache.loaded() == ["tiny-demo"]

    # Another model takes the only place: both pipelines of the first go, together.
    other = DiffusionModel.objects.create(slug="tiny-other", name="Other", source="tiny-sd")
    cache.image_to_image(other)
    assert cache.loaded() == ["tiny-other"]
    assert cache.loads == 2
    assert cache.image_to_image(tiny_model) is not image
    assert cache.loads == 3


def test_a_generation_from_an_image_runs_on_a_real_worker(
    gpu_worker: RunningProcess, user: User, tiny_model: DiffusionModel
) -> None:
    recorder = EventRecorder(user.id)
    try:
        _run_and_check(gpu_worker, recorder, user, tiny_model)
    finally:
        recorder.close()


def _run_and_check(
    gpu_worker: RunningProcess, recorder: EventRecorder, user: User, tiny_model: DiffusionModel
) -> None:
    text = generation_queued(user, tiny_model, steps=10)
    starts = [
        generation_queued(
            user,
            tiny_model,
            kind=Generation.Kind.IMAGE,
            init_image=init_image_stored(96, 64, color=color),
            strength=0.6,
            width=96,
            height=64,
            steps=10,
        )
        for color in [(230, 30, 30), (30, 30, 230)]
    ]
    for generation in [text, *starts]:
        done = generation_wait(generation.id, "succeeded", "failed", timeout=120)
        assert done.status == "succeeded", done.error

    images = [stored_image(generation) for generation in starts]
    assert [image.size for image in images] == [(96, 64), (96, 64)]
    assert images[0].info["parameters"].endswith(", Denoising strength: 0.6")
    # Same prompt and seed, other init image: another image, so the init image was used.
    assert not np.array_equal(np.asarray(images[0]), np.asarray(images[1]))

    # The worker logs a batch as done just after marking it succeeded: wait for the line.
    gpu_worker.wait_for_output(
        "at strength 0.6 by StableDiffusionImg2ImgPipeline with DDIMScheduler", timeout=30
    )
    log = gpu_worker.output()
    assert log.count("Loaded pipeline 'tiny-demo'") == 1
    assert "pipeline loads so far: 2" not in log
    assert log.count("Made the image-to-image pipeline of 'tiny-demo' from its loaded one") == 1

    # Only 6 of the 10 steps run (10 x 0.6); the owner still sees them go up to 10 of 10.
    for generation in starts:
        running = [
            event
            for event in recorder.wait_for(str(generation.id), "succeeded")
            if event["status"] == "running" and event.get("step")
        ]
        steps = [event["step"] for event in running]
        assert {event["total"] for event in running} == {10}
        assert steps == sorted(steps)
        assert steps[-1] == 10
        assert 1 < steps[0] <= 2


def test_an_init_image_that_is_gone_fails_the_generation_readably(
    user: User, tiny_model: DiffusionModel, tiny_model_folder: Path
) -> None:
    generation = generation_queued(
        user,
        tiny_model,
        kind=Generation.Kind.IMAGE,
        init_image="init-images/never-stored.png",
        strength=0.5,
    )
    with pytest.raises(InitImageUnreadable):
        generation_run(
            generation_id=str(generation.id),
            pipelines=PipelineCache(capacity=1, device="cpu"),
            state=WorkerState(name="in-process", models=[tiny_model.slug], batch_size=1),
            events_per_second=settings.PROGRESS_EVENTS_PER_SECOND,
            preview_interval=settings.PREVIEW_INTERVAL_SECONDS,
        )
    generation.refresh_from_db()
    assert generation.status == "failed"
    assert generation.error == (
        "The image to start from could not be read. Please upload it again."
    )


def _png_data_url(width: int, height: int) -> str:
    raw = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 200)).save(raw, "PNG")
    return "data:image/png;base64," + base64.b64encode(raw.getvalue()).decode()


def test_from_an_upload_and_from_the_gallery_through_the_api_to_a_real_worker(
    gpu_worker: RunningProcess, alice_client: Client, tiny_model: DiffusionModel
) -> None:
    # An upload of 100x70 is re-encoded at 96x64 (multiples of 8), then made into a new image.
    uploaded = generation_submitted(alice_client, init_image=_png_data_url(100, 70), steps=6)
    first = generation_wait(uploaded, "succeeded", "failed")
    assert (first.status, first.kind, first.source_image) == ("succeeded", "image", None)
    assert stored_image(first).size == (96, 64)

    # One of the gallery's images, at a size of its own: the source is recorded.
    from_gallery = generation_submitted(
        alice_client,
        init_image={"generation": uploaded, "index": 0},
        width=128,
        height=128,
        strength=0.5,
        steps=6,
    )
    second = generation_wait(from_gallery, "succeeded", "failed")
    assert (second.status, second.kind, second.strength) == ("succeeded", "image", 0.5)
    assert second.source_image == first.images.get()
    assert stored_image(second).size == (128, 128)
    page = alice_client.get(f"/gallery/{from_gallery}/").content.decode()
    assert f"/gallery/{uploaded}/" in page
