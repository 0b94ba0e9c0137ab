"""The samplers a generation may name (generation.samplers), as diffusers schedulers, and the
pipeline to call for a batch with the sampler it asks for.

A scheduler keeps state while it samples (its timesteps, the step it is at), and the cached
pipeline serves every job of its model: a sampler is never set on the cached pipeline itself, but
on a twin for one call that shares every other component (so no weights are copied).
"""

from typing import Any

from diffusers import (
    AutoPipelineForImage2Image,
    AutoPipelineForText2Image,
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    LCMScheduler,
    UniPCMultistepScheduler,
)
from diffusers.pipelines.auto_pipeline import AUTO_IMAGE2IMAGE_PIPELINES_MAPPING

from generation.models import Generation
from generation.samplers import SAMPLERS

# name -> (scheduler class, options over the model's own scheduler config): the diffusers
# equivalents of AUTOMATIC1111's samplers, as diffusers' documentation pairs them; one for
# every name in generation.samplers.SAMPLERS.
SCHEDULERS: dict[str, tuple[Any, dict[str, Any]]] = {
    "euler": (EulerDiscreteScheduler, {}),
    "euler_a": (EulerAncestralDiscreteScheduler, {}),
    "dpmpp_2m": (DPMSolverMultistepScheduler, {}),
    "dpmpp_2m_karras": (DPMSolverMultistepScheduler, {"use_karras_sigmas": True}),
    "ddim": (DDIMScheduler, {}),
    "unipc": (UniPCMultistepScheduler, {}),
    "lcm": (LCMScheduler, {}),
}

# AUTOMATIC1111's labels of the schedulers models ship with that no sampler name maps to.
OTHER_SCHEDULER_LABELS = {
    "PNDMScheduler": "PLMS",
    "LMSDiscreteScheduler": "LMS",
    "HeunDiscreteScheduler": "Heun",
    "KDPM2DiscreteScheduler": "DPM2",
    "KDPM2AncestralDiscreteScheduler": "DPM2 a",
}


class UnknownSampler(Exception):
    """A generation names a sampler this worker has no scheduler for."""


def sampler_effective(generation: Generation) -> str:
    """The sampler a generation runs with: its own, else its model's default; "" for the
    pipeline's own scheduler."""
    return generation.sampler or generation.model.default_sampler


def sampler_label_ran(pipeline: Any, *, sampler: str) -> str:
    """AUTOMATIC1111's label of the sampler a pipeline ran with: that of `sampler` when one was
    named (by the generation or its model), else that of the model's own scheduler."""
    if sampler:
        return SAMPLERS[sampler]
    scheduler = pipeline.scheduler
    # The most particular match first: DPM++ 2M Karras is DPM++ 2M with Karras sigmas.
    for name, (scheduler_class, options) in sorted(
        SCHEDULERS.items(), key=lambda item: -len(item[1][1])
    ):
        config = scheduler.config
        if type(scheduler) is scheduler_class and all(
            config.get(key) == value for key, value in options.items()
        ):
            return SAMPLERS[name]
    class_name = type(scheduler).__name__
    return OTHER_SCHEDULER_LABELS.get(class_name, class_name.removesuffix("Scheduler"))


def scheduler_make(name: str, config: Any) -> Any:
    """A fresh scheduler for the sampler `name`, made from a pipeline's scheduler config, so
    that what the model was trained with (betas, prediction type, timestep spacing) carries
    over."""
    try:
        scheduler_class, options = SCHEDULERS[name]
    except KeyError:
        raise UnknownSampler(name) from None
    return scheduler_class.from_config(config, **options)


def pipeline_with_sampler(pipeline: Any, *, sampler: str) -> Any:
    """The pipeline to call with `sampler`: `pipeline` itself for "" (its own scheduler), else a
    twin of it with a fresh scheduler, for one call.

    The twin comes from AutoPipeline's `from_pipe`, which hands the same module objects to the
    new pipeline without copying or converting them (DiffusionPipeline.from_pipe, by contrast,
    also casts the shared modules, in place, to the dtype it is given, float32 by default).
    """
    if not sampler:
        return pipeline
    scheduler = scheduler_make(sampler, pipeline.scheduler.config)
    auto = (
        AutoPipelineForImage2Image
        if type(pipeline) in AUTO_IMAGE2IMAGE_PIPELINES_MAPPING.values()
        else AutoPipelineForText2Image
    )
    twin = auto.from_pipe(pipeline, scheduler=scheduler)
    # from_pipe starts the twin with tqdm's defaults; the worker's pipelines keep theirs off.
    twin.set_progress_bar_config(**getattr(pipeline, "_progress_bar_config", {}))
    return twin
