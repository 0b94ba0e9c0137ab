"""Running generations on this worker: claim one (and compatible companions for one batched
pipeline call), sample with live progress and previews, store each one's images."""

import logging
import time
from functools import partial
from typing import Any

import torch
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import default_storage
from PIL import Image

from generation.models import Generation
from generation.services import (
    StoredImage,
    generation_batch_claim,
    generation_release,
    generation_run_fail,
    generation_start,
    generation_succeed,
)
from worker.images import StorageUnavailable, image_store, images_delete
from worker.pipelines import ModelLoadError, PipelineCache
from worker.recovery import OUTAGE_ERRORS, best_effort, when_reachable
from worker.reporter import GenerationsStopped, StepReporter
from worker.samplers import (
    UnknownSampler,
    pipeline_with_sampler,
    sampler_effective,
    sampler_label_ran,
)
from worker.state import WorkerState

log = logging.getLogger(__name__)


class InitImageUnreadable(Exception):
    """The image a generation starts from is missing from storage or is not an image."""


def failure_message(error: BaseException) -> str:
    """What the owner of a failed generation is told: never a traceback or internal detail."""
    if isinstance(error, ModelLoadError):
        return str(error)
    if isinstance(error, UnknownSampler):
        return f"The sampler '{error}' is not available on this GPU worker."
    if isinstance(error, InitImageUnreadable):
        return "The image to start from could not be read. Please upload it again."
    if isinstance(error, torch.OutOfMemoryError):
        return "The GPU ran out of memory. Try a smaller size or fewer images."
    if isinstance(error, StorageUnavailable):
        return (
            "The image was made but could not be saved, because storage was unreachable. "
            "Please try again."
        )
    return "The GPU worker hit an unexpected error while making this image."


def generation_run(
    *,
    generation_id: str,
    pipelines: PipelineCache,
    state: WorkerState,
    events_per_second: float,
    preview_interval: float,
) -> None:
    batch = _batch_take(generation_id, state)
    if not batch:
        log.info(
            "Generation %s is no longer queued (or was claimed again elsewhere); skipping it",
            generation_id,
        )
        return
    first = batch[0]
    reporter = StepReporter(
        batch, state=state, events_per_second=events_per_second, preview_interval=preview_interval
    )
    started = time.perf_counter()
    try:
        images, pipeline = _sample(pipelines, batch, reporter)
        sampled = time.perf_counter()
        # Every generation of a batch ran with the same sampler.
        sampler = sampler_label_ran(pipeline, sampler=sampler_effective(first))
        for generation, generation_images in zip(batch, _split(images, batch), strict=True):
            if generation in reporter.live:
                _generation_finish(generation, generation_images, sampler=sampler)
    except GenerationsStopped:
        # Each was cancelled (and refunded by whoever cancelled it) or handed to another run.
        log.info("Generation(s) %s cancelled while running, or now run elsewhere", _ids(batch))
        return
    except Exception as error:
        for generation in batch:
            _generation_fail(generation, error)
        raise  # RQ records the traceback in its failed-job registry for operators.
    except BaseException:
        # A forced shutdown (second SIGTERM/SIGINT) mid-job: another worker takes them over
        # (or, if the database is away, the reaper does once it is back).
        for generation in batch:
            best_effort(partial(generation_release, generation=generation), default=False)
        raise
    finally:
        # Whatever happened, this worker no longer runs them: no more lease renewals, and the
        # staff page and ETAs stop counting them.
        state.batch_done(batch)
    state.batch_timed(model=first.model.slug, images=len(images), seconds=sampled - started)
    log.info(
        "Generation(s) %s done: %d image(s) of %dx%d, %d steps%s by %s with %s; "
        "sampling %.3f s, storing %.3f s",
        _ids(batch),
        len(images),
        first.width,
        first.height,
        first.steps,
        "" if first.strength is None else f" at strength {first.strength:g}",
        type(pipeline).__name__,
        type(pipeline.scheduler).__name__,
        sampled - started,
        time.perf_counter() - sampled,
    )


def _batch_take(generation_id: str, state: WorkerState) -> list[Generation]:
    """Claim the generation of this job and compatible companions; [] if it is not queued."""
    # The claim waits out an outage: the job is ours from RQ, and the generation still queued.
    first = when_reachable(
        lambda: generation_start(generation_id=generation_id, worker_name=state.name)
    )
    if first is None:
        return []
    state.running([first])
    companions: list[Generation] = best_effort(
        partial(
            generation_batch_claim, first=first, max_images=state.batch_size, worker_name=state.name
        ),
        default=[],
    )
    batch = [first, *companions]
    state.running(batch)
    state.line_moved(first.model)
    if companions:
        log.info(
            "Batch of %d generations (%d images) in one pipeline call: %s",
            len(batch),
            sum(generation.count for generation in batch),
            _ids(batch),
        )
    return batch


def _ids(batch: list[Generation]) -> str:
    return ", ".join(str(generation.id) for generation in batch)


def _split(images: list[Any], batch: list[Generation]) -> list[list[Any]]:
    """The images of one pipeline call, per generation, in batch order."""
    split, offset = [], 0
    for generation in batch:
        split.append(images[offset : offset + generation.count])
        offset += generation.count
    return split


def _generation_finish(generation: Generation, images: list[Any], *, sampler: str) -> None:
    """Store one generation's images (made with the sampler labelled `sampler`) and mark it
    done, on its own: a failure here fails only this generation, not the others that shared its
    pipeline call."""
    stored: list[StoredImage] = []
    try:
        for index, image in enumerate(images):
            stored.append(
                image_store(generation=generation, index=index, image=image, sampler=sampler)
            )
    except Exception as error:
        log.exception("Could not store the images of generation %s", generation.id)
        _images_forget(stored)
        _generation_fail(generation, error)
        return
    try:
        # The images are safe in storage: an outage now only delays recording them.
        recorded = when_reachable(lambda: generation_succeed(generation=generation, images=stored))
    except OUTAGE_ERRORS:
        log.error("Gave up recording generation %s; the reaper will see to it", generation.id)
        recorded = False
    if not recorded:
        # Cancelled after sampling, or handed to another run: these files are this run's
        # alone (their names carry it), and nothing refers to them.
        _images_forget(stored)


def _images_forget(stored: list[StoredImage]) -> None:
    try:
        images_delete(stored)
    except Exception:
        log.exception("Could not delete %d unrecorded image(s) from storage", len(stored))


def _generation_fail(generation: Generation, error: BaseException) -> None:
    """Fail and refund a generation of this run, once the database answers."""
    try:
        when_reachable(
            lambda: generation_run_fail(generation=generation, error=failure_message(error))
        )
    except OUTAGE_ERRORS:
        log.error("Gave up failing generation %s; the reaper will see to it", generation.id)


def _sample(
    pipelines: PipelineCache, batch: list[Generation], reporter: StepReporter
) -> tuple[list[Any], Any]:
    """One pipeline call for every image of every generation in the batch; the images, and the
    pipeline that made them.

    Each image gets its own prompt (and, from an image, its own init image) and its own seeded
    generator, so an image comes out the same whether its generation ran alone or with others.
    A batch shares one kind of start, sampler, size, steps, guidance and strength.
    """
    first = batch[0]
    from_image = first.kind != Generation.Kind.TEXT
    pipeline = pipelines.image_to_image(first.model) if from_image else pipelines.get(first.model)
    pipeline = pipeline_with_sampler(pipeline, sampler=sampler_effective(first))
    # CPU generators give the same noise, and so the same image, on any machine for a seed.
    generators = [
        torch.Generator(device="cpu").manual_seed(generation.seed + index)
        for generation in batch
        for index in range(generation.count)
    ]
    arguments: dict[str, Any] = {
        "prompt": [generation.prompt for generation in batch for _ in range(generation.count)],
        "negative_prompt": [
            generation.negative_prompt for generation in batch for _ in range(generation.count)
        ],
        "num_inference_steps": first.steps,
        "guidance_scale": first.guidance,
        "num_images_per_prompt": 1,
        "generator": generators,
        "callback_on_step_end": reporter.on_step_end,
        "output_type": "pil",
    }
    if from_image:
        # The init images set the size (the pipeline takes no width or height).
        starts = [_init_image(generation) for generation in batch]
        arguments["image"] = [
            start
            for generation, start in zip(batch, starts, strict=True)
            for _ in range(generation.count)
        ]
        arguments["strength"] = first.strength
    else:
        arguments["width"], arguments["height"] = first.width, first.height
    result = pipeline(**arguments)
    return list(result.images), pipeline


def _init_image(generation: Generation) -> Image.Image:
    """The image a generation starts from, as RGB at the generation's size."""
    name = generation.init_image.name
    if not name:
        raise InitImageUnreadable(f"generation {generation.id} has no init image")
    try:
        with default_storage.open(name) as stored:
            image = Image.open(stored).convert("RGB")
    except (OSError, BotoCoreError, ClientError) as error:
        log.warning("Could not read the init image of generation %s: %s", generation.id, error)
        raise InitImageUnreadable(name) from error
    size = (generation.width, generation.height)
    if image.size != size:
        # The web tier stores it at the generation's size; one that is not would make an image
        # of another size than was paid for, and every image of one call must share a size.
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image
