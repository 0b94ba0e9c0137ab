"""Running one generation on this worker: claim it, sample with live progress, store the images."""

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
from worker.images import image_store, images_delete
from worker.pipelines import ModelLoadError, PipelineCache
from worker.progress import ProgressThrottle

log = logging.getLogger(__name__)


class GenerationCanceled(Exception):
    """Raised from the step callback to stop sampling a generation its owner cancelled."""


def failure_message(error: BaseException) -> str:
    """What the owner of a failed generation is told: never a traceback or internal detail."""
    if isinstance(error, ModelLoadError):
        return str(error)
    if isinstance(error, torch.OutOfMemoryError):
        return "The GPU ran out of memory. Try a smaller size or fewer images."
    return "The GPU worker hit an unexpected error while making this image."


def generation_run(
    *, generation_id: str, pipelines: PipelineCache, events_per_second: float
) -> None:
    generation = generation_start(generation_id=generation_id)
    if generation is None:
        log.info("Generation %s is no longer queued; skipping it", generation_id)
        return
    stored: list[StoredImage] = []
    try:
        pipeline = pipelines.get(generation.model)
        started = time.perf_counter()
        images = _sample(pipeline, generation, events_per_second)
        sampled = time.perf_counter()
        stored = [
            image_store(
                generation_id=generation.id, index=index, seed=generation.seed + index, image=image
            )
            for index, image in enumerate(images)
        ]
    except GenerationCanceled:
        # Already marked canceled and refunded by whoever cancelled it.
        images_delete(stored)
        log.info("Generation %s was cancelled while running; stopped", generation.id)
        return
    except Exception as error:
        images_delete(stored)
        generation_fail(generation_id=generation.id, error=failure_message(error))
        raise  # RQ records the traceback in its failed-job registry for operators.
    except BaseException:
        # A forced shutdown (second SIGTERM/SIGINT) mid-job: another worker takes it over.
        images_delete(stored)
        generation_release(generation_id=generation.id)
        raise
    if not generation_succeed(generation=generation, images=stored):
        images_delete(stored)
        return
    log.info(
        "Generation %s succeeded: %d image(s) of %dx%d, %d steps; sampling %.3f s, storing %.3f s",
        generation.id,
        generation.count,
        generation.width,
        generation.height,
        generation.steps,
        sampled - started,
        time.perf_counter() - sampled,
    )


def _sample(pipeline: Any, generation: Generation, events_per_second: float) -> list[Any]:
    throttle = ProgressThrottle(total=generation.steps, per_second=events_per_second)

    def on_step_end(
        _pipeline: Any, step_index: int, _timestep: Any, tensors: dict[str, Any]
    ) -> dict[str, Any]:
        step = step_index + 1
        if cancel_requested(generation.id):
            raise GenerationCanceled
        if throttle.due(step):
            generation_progress(generation=generation, step=step)
        return tensors

    # CPU generators give the same noise, and so the same image, on any machine for a seed.
    generators = [
        torch.Generator(device="cpu").manual_seed(generation.seed + index)
        for index in range(generation.count)
    ]
    result = pipeline(
        prompt=generation.prompt,
        negative_prompt=generation.negative_prompt or None,
        width=generation.width,
        height=generation.height,
        num_inference_steps=generation.steps,
        guidance_scale=generation.guidance,
        num_images_per_prompt=generation.count,
        generator=generators,
        callback_on_step_end=on_step_end,
        output_type="pil",
    )
    return list(result.images)
