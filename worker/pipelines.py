"""Loading diffusion pipelines onto the best device and keeping recently used ones in memory.

Loading a model takes seconds to minutes while running one takes far less, so a worker keeps
pipelines loaded between jobs and only drops the least recently used when it needs room.
"""

import functools
import logging
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
from diffusers import AutoPipelineForText2Image
from django.conf import settings

from generation.models import DiffusionModel

log = logging.getLogger(__name__)


class ModelLoadError(Exception):
    """A model's files could not be found or read; the message is safe to show users."""


def device_pick() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def model_location(source: str) -> str:
    """A folder under MODELS_DIR if one has that name; otherwise the source as given
    (an absolute folder or a Hugging Face model id)."""
    candidate = Path(settings.MODELS_DIR) / source
    if not Path(source).is_absolute() and candidate.is_dir():
        return str(candidate)
    return source


class PipelineCache:
    def __init__(self, *, capacity: int, device: str) -> None:
        self.capacity = max(1, capacity)
        self.device = device
        self.loads = 0
        self._pipelines: OrderedDict[tuple[str, str], Any] = OrderedDict()

    def loaded(self) -> list[str]:
        return [slug for slug, _ in self._pipelines]

    def get(self, model: DiffusionModel) -> Any:
        key = (model.slug, model.source)
        if key in self._pipelines:
            self._pipelines.move_to_end(key)
            return self._pipelines[key]
        while len(self._pipelines) >= self.capacity:
            evicted, _ = self._pipelines.popitem(last=False)
            log.info("Unloaded pipeline %r to make room", evicted[0])
            if self.device == "cuda":
                torch.cuda.empty_cache()
        pipeline = self._load(model)
        self._pipelines[key] = pipeline
        return pipeline

    def _load(self, model: DiffusionModel) -> Any:
        started = time.perf_counter()
        location = model_location(model.source)
        # Half precision halves GPU memory and time; CPUs have no fast float16 kernels.
        dtype = torch.float16 if self.device == "cuda" else torch.float32
        try:
            pipeline = AutoPipelineForText2Image.from_pretrained(location, dtype=dtype)
        # Any failure here (missing folder, unknown hub id while offline, corrupt weights) means
        # the same thing to the user; the log keeps the detail for operators.
        except Exception as error:
            log.warning("Could not load model %r from %r: %s", model.slug, location, error)
            raise ModelLoadError(
                f"The model '{model.name}' could not be loaded on the GPU worker."
            ) from error
        pipeline = pipeline.to(self.device)
        pipeline.set_progress_bar_config(disable=True)
        self.loads += 1
        log.info(
            "Loaded pipeline %r (%s) from %s on %s in %.2f s (pipeline loads so far: %d)",
            model.slug,
            str(pipeline.dtype).removeprefix("torch."),
            location,
            self.device,
            time.perf_counter() - started,
            self.loads,
        )
        return pipeline


@functools.cache
def pipeline_cache() -> PipelineCache:
    """The worker process's one cache; it lives as long as the process (workers never fork)."""
    return PipelineCache(capacity=settings.WORKER_PIPELINE_CACHE_SIZE, device=device_pick())
