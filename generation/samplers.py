"""The samplers a request may name. Each is a diffusers scheduler on the worker
(worker.samplers); here, on the web tier, only their names and labels, as the API, the pages and
the PNG's settings (AUTOMATIC1111's names) show them."""

# name -> label, in the order the page offers them.
SAMPLERS = {
    "euler": "Euler",
    "euler_a": "Euler a",
    "dpmpp_2m": "DPM++ 2M",
    "dpmpp_2m_karras": "DPM++ 2M Karras",
    "ddim": "DDIM",
    "unipc": "UniPC",
    "lcm": "LCM",
}
# Samplers only few-step models (the Turbo family: SD-Turbo, SDXL-Turbo, LCM) were distilled
# for: other models come out as noise with them.
FEW_STEP_SAMPLERS = frozenset({"lcm"})


def sampler_fits(name: str, *, few_step: bool) -> bool:
    """Whether the sampler `name` ("" for the model's own) suits a model; `few_step`: the
    model is of the Turbo family."""
    return few_step or name not in FEW_STEP_SAMPLERS


def sampler_misfit_message(name: str, *, model_name: str) -> str:
    return (
        f"The {sampler_label(name)} sampler is only for few-step (Turbo or LCM) models, "
        f"and {model_name} is not one."
    )


def sampler_label(name: str) -> str:
    """The label of a sampler name; "" (the model's own scheduler) reads as "Default"."""
    return SAMPLERS.get(name, "Default")
