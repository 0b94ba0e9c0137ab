"""Running generations on this worker: claim one (and compatible companions for one batched
pipeline call), sample with live progress and previews, store each one's images."""

import logging
import time
from typing import Any

import torch

from generation.models import Generation
from generation.queues import cancel_requested
from generation.services import (
    StoredImage,
    generation_fail,
    generation_progress,
    generation_release,
    generation_start,
    generation_succeed,
)
from worker.batching import batch_collect
from worker.images import image_store, images_delete
from worker.pipelines import ModelLoadError, PipelineCache
from worker.preview import latent_preview
from worker.progress import ProgressThrottle
from worker.state import WorkerState

log = logging.getLogger(__name__)

RECORD_PROGRESS_SECONDS = 1.0
# A cancelled generation stops at the first step that starts after this long.
CANCEL_CHECK_SECONDS = 0.1


class GenerationsCanceled(Exception):
    """Raised from the step callback once every generation in the call has been cancelled."""


def failure_message(error: BaseException) -> str:
    """What the owner of a failed generation is told: never a traceback or internal detail."""
    if isinstance(error, ModelLoadError):
        return str(error)
    if isinstance(error, torch.OutOfMemoryError):
        return "The GPU ran out of memory. Try a smaller size or fewer images."
    return "The GPU worker hit an unexpected error while making this image."


def generation_run(
    *,
    generation_id: str,
    pipelines: PipelineCache,
    state: WorkerState,
    events_per_second: float,
    preview_interval: float,
) -> None:
    first = generation_start(generation_id=generation_id, worker_name=state.name)
    if first is None:
        log.info("Generation %s is no longer queued; skipping it", generation_id)
        return
    batch = [
        first,
        *batch_collect(first=first, max_images=state.batch_size, worker_name=state.name),
    ]
    state.running([str(generation.id) for generation in batch])
    state.line_moved(first.model)
    images_total = sum(generation.count for generation in batch)
    if len(batch) > 1:
        log.info(
            "Batch of %d generations (%d images) in one pipeline call: %s",
            len(batch),
            images_total,
            ", ".join(str(generation.id) for generation in batch),
        )
    started = time.perf_counter()
    try:
        pipeline = pipelines.get(first.model)
        images = _sample(pipeline, batch, events_per_second, preview_interval)
    except GenerationsCanceled:
        # Each was already marked canceled and refunded by whoever cancelled it.
        log.info("Generation(s) %s cancelled while running; stopped", _ids(batch))
        state.batch_done(model=first.model.slug, generations=len(batch), images=0, seconds=0)
        return
    except Exception as error:
        for generation in batch:
            generation_fail(generation_id=generation.id, error=failure_message(error))
        state.batch_done(model=first.model.slug, generations=len(batch), images=0, seconds=0)
        raise  # RQ records the traceback in its failed-job registry for operators.
    except BaseException:
        # A forced shutdown (second SIGTERM/SIGINT) mid-job: another worker takes them over.
        for generation in batch:
            generation_release(generation_id=generation.id)
        raise
    sampled = time.perf_counter()
    offset = 0
    for generation in batch:
        _generation_finish(generation, images[offset : offset + generation.count])
        offset += generation.count
    state.batch_done(
        model=first.model.slug,
        generations=len(batch),
        images=images_total,
        seconds=sampled - started,
    )
    log.info(
        "Generation(s) %s done: %d image(s) of %dx%d, %d steps; sampling %.3f s, storing %.3f s",
        _ids(batch),
        images_total,
        first.width,
        first.height,
        first.steps,
        sampled - started,
        time.perf_counter() - sampled,
    )


def _ids(batch: list[Generation]) -> str:
    return ", ".join(str(generation.id) for generation in batch)


def _generation_finish(generation: Generation, images: list[Any]) -> None:
    """Store one generation's images and mark it done, on its own: a failure here fails only
    this generation, not the others that shared its pipeline call."""
    stored: list[StoredImage] = []
    try:
        for index, image in enumerate(images):
            stored.append(
                image_store(
                    generation_id=generation.id,
                    index=index,
                    seed=generation.seed + index,
                    image=image,
                )
            )
        if not generation_succeed(generation=generation, images=stored):
            images_delete(stored)  # cancelled after sampling finished
    except Exception as error:
        log.exception("Could not store the images of generation %s", generation.id)
        images_delete(stored)
        generation_fail(generation_id=generation.id, error=failure_message(error))


def _sample(
    pipeline: Any, batch: list[Generation], events_per_second: float, preview_interval: float
) -> list[Any]:
    """One pipeline call for every image of every generation in the batch.

    Each image gets its own prompt and its own seeded generator, so an image comes out the same
    whether its generation ran alone or with others.
    """
    first = batch[0]
    throttle = ProgressThrottle(total=first.steps, per_second=events_per_second)
    # The database copy of the progress (for the API) is written less often than events go out,
    # and cancellation is checked at most every CANCEL_CHECK_SECONDS; each costs a round trip.
    recording = ProgressThrottle(total=first.steps, per_second=1 / RECORD_PROGRESS_SECONDS)
    last_cancel_check = 0.0
    first_image = {}
    offset = 0
    for generation in batch:
        first_image[str(generation.id)] = offset
        offset += generation.count
    live = {str(generation.id): generation for generation in batch}
    last_preview = 0.0

    def on_step_end(
        _pipeline: Any, step_index: int, _timestep: Any, tensors: dict[str, Any]
    ) -> Any:
        nonlocal last_preview, last_cancel_check
        step = step_index + 1
        if time.monotonic() - last_cancel_check >= CANCEL_CHECK_SECONDS:
            last_cancel_check = time.monotonic()
            for canceled in cancel_requested(list(live)):
                del live[canceled]
            if not live:
                raise GenerationsCanceled
        if throttle.due(step):
            record = recording.due(step)
            with_preview = time.monotonic() - last_preview >= preview_interval
            if with_preview:
                last_preview = time.monotonic()
            for generation_id, generation in live.items():
                preview = None
                if with_preview:
                    latent = tensors["latents"][first_image[generation_id]]
                    preview = latent_preview(latent, generation.model.family)
                generation_progress(
                    generation=generation, step=step, preview=preview, record=record
                )
        return tensors

    # CPU generators give the same noise, and so the same image, on any machine for a seed.
    generators = [
        torch.Generator(device="cpu").manual_seed(generation.seed + index)
        for generation in batch
        for index in range(generation.count)
    ]
    result = pipeline(
        prompt=[generation.prompt for generation in batch for _ in range(generation.count)],
        negative_prompt=[
            generation.negative_prompt for generation in batch for _ in range(generation.count)
        ],
        width=first.width,
        height=first.height,
        num_inference_steps=first.steps,
        guidance_scale=first.guidance,
        num_images_per_prompt=1,
        generator=generators,
        callback_on_step_end=on_step_end,
        output_type="pil",
    )
    return list(result.images)
