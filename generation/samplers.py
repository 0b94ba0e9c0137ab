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
    # Only for few-step models distilled for it (LCM, and Turbo models with an LCM scheduler).
    "lcm": "LCM",
}


def sampler_label(name: str) -> str:
    """The label of a sampler name; "" (the model's own scheduler) reads as "Default"."""
    return SAMPLERS.get(name, "Default")
