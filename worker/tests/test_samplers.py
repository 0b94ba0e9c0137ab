"""A generation's sampler is the scheduler of its pipeline call, and of that call only: the
cached pipeline keeps its own for every other job."""

import io
import logging
from pathlib import Path
from typing import Any

import pytest
import torch
from diffusers import (
    DDIMScheduler,
    EulerAncestralDiscreteScheduler,
    UniPCMultistepScheduler,
)
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from PIL import Image

from generation.models import DiffusionModel, Generation
from generation.samplers import SAMPLERS
from testing.generations import generation_queued, init_image_stored
from worker.pipelines import PipelineCache
from worker.runner import generation_run
from worker.samplers import SCHEDULERS, pipeline_with_sampler, sampler_label_ran, scheduler_make
from worker.state import WorkerState


def schedulers_used(pipeline: Any) -> list[type]:
    """The scheduler class the pipeline steps with, as its step callback sees it."""
    used: list[type] = []

    def record(called: Any, _step: int, _timestep: Any, tensors: dict[str, Any]) -> Any:
        used.append(type(called.scheduler))
        return tensors

    pipeline(
        prompt="a red fox",
        width=64,
        height=64,
        num_inference_steps=2,
        generator=torch.Generator().manual_seed(1),
        callback_on_step_end=record,
        output_type="pil",
    )
    return used


def test_every_sampler_the_site_offers_is_a_scheduler_made_from_the_models_config(
    tiny_model: DiffusionModel, tiny_model_folder: Path
) -> None:
    assert SCHEDULERS.keys() == SAMPLERS.keys()
    pipeline = PipelineCache(capacity=1, device="cpu").get(tiny_model)
    for name, (scheduler_class, _) in SCHEDULERS.items():
        scheduler = scheduler_make(name, pipeline.scheduler.config)
        assert type(scheduler) is scheduler_class
        # What the model was trained with carries over.
        assert scheduler.config.beta_schedule == pipeline.scheduler.config.beta_schedule
        assert scheduler.config.num_train_timesteps == pipeline.scheduler.config.num_train_timesteps
    karras = scheduler_make("dpmpp_2m_karras", pipeline.scheduler.config)
    assert karras.config.use_karras_sigmas is True
    assert scheduler_make("dpmpp_2m", pipeline.scheduler.config).config.use_karras_sigmas is False


def png_sampler(generation: Generation) -> str:
    """The sampler label the parameters chunk of a generation's first PNG names."""
    image = generation.images.get(index=0)
    with default_storage.open(image.image.name) as png:
        chunk = Image.open(io.BytesIO(png.read())).info["parameters"]
    return str(chunk.splitlines()[-1].split("Sampler: ")[1].split(", ")[0])


def test_the_label_of_the_sampler_that_ran_is_the_named_ones_else_the_schedulers(
    tiny_model: DiffusionModel, tiny_model_folder: Path
) -> None:
    pipeline = PipelineCache(capacity=1, device="cpu").get(tiny_model)
    assert sampler_label_ran(pipeline, sampler="") == "DDIM"
    assert sampler_label_ran(pipeline, sampler="euler_a") == "Euler a"
    for name, label in SAMPLERS.items():
        # The scheduler of every sampler reads back as that sampler, Karras sigmas included.
        assert sampler_label_ran(pipeline_with_sampler(pipeline, sampler=name), sampler="") == label


def test_a_sampler_changes_the_scheduler_for_that_call_only(
    tiny_model: DiffusionModel, tiny_model_folder: Path
) -> None:
    cache = PipelineCache(capacity=1, device="cpu")
    pipeline = cache.get(tiny_model)
    assert type(pipeline.scheduler) is DDIMScheduler

    euler_a = pipeline_with_sampler(pipeline, sampler="euler_a")
    unipc = pipeline_with_sampler(pipeline, sampler="unipc")
    assert schedulers_used(euler_a) == [EulerAncestralDiscreteScheduler] * 2
    assert schedulers_used(unipc) == [UniPCMultistepScheduler] * 2
    assert schedulers_used(pipeline) == [DDIMScheduler] * 2
    assert type(cache.get(tiny_model).scheduler) is DDIMScheduler
    # No sampler: the cached pipeline itself. Two calls with one sampler: a scheduler each.
    assert pipeline_with_sampler(pipeline, sampler="") is pipeline
    again = pipeline_with_sampler(pipeline, sampler="euler_a")
    assert again.scheduler is not euler_a.scheduler
    # A twin shares every module (no second copy of the weights) and keeps progress bars off.
    for twin in (euler_a, unipc, again):
        for name in ("unet", "vae", "text_encoder", "tokenizer"):
            assert getattr(twin, name) is getattr(pipeline, name)
        assert twin._progress_bar_config == {"disable": True}
        assert twin.dtype == pipeline.dtype
    assert cache.loads == 1


def test_each_job_runs_with_its_own_sampler_and_the_cached_pipelines_are_left_alone(
    user: User,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tiny_model.default_sampler = "dpmpp_2m_karras"
    tiny_model.save()
    init = init_image_stored(64, 64, color=(20, 120, 220))
    jobs = [
        generation_queued(user, tiny_model, sampler="euler_a"),
        generation_queued(user, tiny_model),  # the model's default
        generation_queued(
            user,
            tiny_model,
            sampler="unipc",
            kind=Generation.Kind.IMAGE,
            init_image=init,
            strength=0.6,
        ),
    ]
    cache = PipelineCache(capacity=1, device="cpu")
    state = WorkerState(name="samplers", models=[tiny_model.slug], batch_size=1)
    with caplog.at_level(logging.INFO, logger="worker.runner"):
        for generation in jobs:
            generation_run(
                generation_id=str(generation.id),
                pipelines=cache,
                state=state,
                events_per_second=settings.PROGRESS_EVENTS_PER_SECOND,
                preview_interval=settings.PREVIEW_INTERVAL_SECONDS,
            )

    for generation in jobs:
        generation.refresh_from_db()
        assert generation.status == "succeeded", generation.error
    done = [record.getMessage() for record in caplog.records if " done: " in record.getMessage()]
    assert len(done) == 3
    assert "by StableDiffusionPipeline with EulerAncestralDiscreteScheduler" in done[0]
    assert "by StableDiffusionPipeline with DPMSolverMultistepScheduler" in done[1]
    assert (
        "at strength 0.6 by StableDiffusionImg2ImgPipeline with UniPCMultistepScheduler"
        in (done[2])
    )
    assert type(cache.get(tiny_model).scheduler) is DDIMScheduler
    assert type(cache.image_to_image(tiny_model).scheduler) is DDIMScheduler
    assert cache.loads == 1
    # Each PNG names the sampler that made it: none named is the model's default.
    assert [png_sampler(generation) for generation in jobs] == [
        "Euler a",
        "DPM++ 2M Karras",
        "UniPC",
    ]


def test_a_png_names_the_models_own_scheduler_when_nothing_names_a_sampler(
    user: User, tiny_model: DiffusionModel, tiny_model_folder: Path
) -> None:
    generation = generation_queued(user, tiny_model)
    generation_run(
        generation_id=str(generation.id),
        pipelines=PipelineCache(capacity=1, device="cpu"),
        state=WorkerState(name="samplers", models=[tiny_model.slug], batch_size=1),
        events_per_second=settings.PROGRESS_EVENTS_PER_SECOND,
        preview_interval=settings.PREVIEW_INTERVAL_SECONDS,
    )

    generation.refresh_from_db()
    assert generation.status == "succeeded", generation.error
    assert png_sampler(generation) == "DDIM"
