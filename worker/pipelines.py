"""Loading diffusion pipelines onto the best device and keeping recently used ones in memory.

Loading a model takes seconds to minutes while running one takes far less, so a worker keeps
pipelines loaded between jobs and only drops the least recently used when it needs room. A
model's image-to-image pipeline is made from its text-to-image one and shares its weights.
"""

import functools
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from diffusers import AutoPipelineForImage2Image, AutoPipelineForText2Image
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


@dataclass
class LoadedModel:
    """A model's pipelines in memory: the one loaded, and the image-to-image one made from it
    on first use. They share every module, so they are kept and dropped together."""

    text_to_image: Any
    image_to_image: Any = None


class PipelineCache:
    def __init__(self, *, capacity: int, device: str) -> None:
        self.capacity = max(1, capacity)
        self.device = device
        self.loads = 0
        self._models: OrderedDict[tuple[str, str], LoadedModel] = OrderedDict()

    def loaded(self) -> list[str]:
        return [slug for slug, _ in self._models]

    def get(self, model: DiffusionModel) -> Any:
        """The model's text-to-image pipeline, loaded now if it is not in memory."""
        return self._loaded(model).text_to_image

    def image_to_image(self, model: DiffusionModel) -> Any:
        """The model's image-to-image pipeline: made with `from_pipe` from its text-to-image
        one, so it costs no second load and no second copy of the weights."""
        loaded = self._loaded(model)
        if loaded.image_to_image is None:
            pipeline = AutoPipelineForImage2Image.from_pipe(loaded.text_to_image)
            pipeline.set_progress_bar_config(disable=True)
            loaded.image_to_image = pipeline
            log.info("Made the image-to-image pipeline of %r from its loaded one", model.slug)
        return loaded.image_to_image

    def _loaded(self, model: DiffusionModel) -> LoadedModel:
        key = (model.slug, model.source)
        if key in self._models:
            self._models.move_to_end(key)
            return self._models[key]
        while len(self._models) >= self.capacity:
            evicted, _ = self._models.popitem(last=False)
            log.info("Unloaded pipeline %r to make room", evicted[0])
            if self.device == "cuda":
                torch.cuda.empty_cache()
        loaded = LoadedModel(text_to_image=self._load(model))
        self._models[key] = loaded
        return loaded

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
