"""A generation's settings in AUTOMATIC1111's `parameters` format, written exactly as it writes
them, and read back from ours and from its own."""

from generation.models import DiffusionModel, Generation
from generation.png_parameters import parameters_parse, parameters_text

# As AUTOMATIC1111 1.6 writes a txt2img-then-hires PNG: a prompt over two lines, a LoRA, quoted
# values with commas and colons in them, and keys we do not use.
AUTOMATIC1111_SAMPLE = (
    "masterpiece, a castle on a hill, <lora:castles_v2:0.8>,\n"
    "golden hour, (detailed:1.2)\n"
    "Negative prompt: lowres, bad anatomy,\n"
    "watermark\n"
    "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 3141592653, "
    "Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, "
    "Denoising strength: 0.45, Clip skip: 2, "
    'Lora hashes: "castles_v2: 1a2b3c4d5e6f, other: 0f9e8d7c", '
    'Hires upscaler: "Latent (nearest-exact)", Version: v1.6.0'
)


def a_generation(model: DiffusionModel, **fields: object) -> Generation:
    settings: dict[str, object] = {
        "prompt": "a lighthouse at dawn",
        "width": 64,
        "height": 96,
        "steps": 12,
        "guidance": 7.5,
        "seed": 41,
        **fields,
    }
    return Generation(model=model, **settings)


def test_it_writes_automatic1111s_format_exactly(tiny_model: DiffusionModel) -> None:
    generation = a_generation(tiny_model, negative_prompt="blurry", sampler="euler_a")
    assert parameters_text(generation, index=2, sampler="Euler a") == (
        "a lighthouse at dawn\n"
        "Negative prompt: blurry\n"
        "Steps: 12, Sampler: Euler a, CFG scale: 7.5, Seed: 43, Size: 64x96, Model: Tiny demo"
    )
    from_image = a_generation(
        tiny_model, kind=Generation.Kind.IMAGE, strength=0.6, guidance=7.0, sampler=""
    )
    # No negative prompt, no line for it; the sampler is the one the worker says it ran.
    assert parameters_text(from_image, sampler="DDIM") == (
        "a lighthouse at dawn\n"
        "Steps: 12, Sampler: DDIM, CFG scale: 7, Seed: 41, Size: 64x96, Model: Tiny demo, "
        "Denoising strength: 0.6"
    )
    tiny_model.name = "Tiny, demo: v2"
    assert parameters_text(from_image, sampler="DPM++ 2M Karras").splitlines()[-1] == (
        'Steps: 12, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 41, Size: 64x96, Model: "Tiny, '
        'demo: v2", Denoising strength: 0.6'
    )


def test_what_it_writes_parses_back_to_the_generations_settings(
    tiny_model: DiffusionModel,
) -> None:
    generation = a_generation(
        tiny_model,
        prompt="a red fox,\nin the snow: at night",
        negative_prompt="blurry,\nlow quality",
        sampler="dpmpp_2m_karras",
        kind=Generation.Kind.VARIATIONS,
        strength=0.35,
    )
    parsed = parameters_parse(parameters_text(generation, index=1, sampler="DPM++ 2M Karras"))
    assert parsed == {
        "prompt": "a red fox,\nin the snow: at night",
        "negative_prompt": "blurry,\nlow quality",
        "steps": 12,
        "sampler": "dpmpp_2m_karras",
        "guidance": 7.5,
        "seed": 42,
        "width": 64,
        "height": 96,
        "model": "Tiny demo",
        "strength": 0.35,
        "other": {},
    }


def test_it_reads_automatic1111s_own_pngs() -> None:
    assert parameters_parse(AUTOMATIC1111_SAMPLE) == {
        "prompt": "masterpiece, a castle on a hill, <lora:castles_v2:0.8>,\ngolden hour, "
        "(detailed:1.2)",
        "negative_prompt": "lowres, bad anatomy,\nwatermark",
        "steps": 28,
        "sampler": "dpmpp_2m_karras",
        "guidance": 6.5,
        "seed": 3141592653,
        "width": 512,
        "height": 768,
        "model": "v1-5-pruned-emaonly",
        "strength": 0.45,
        "other": {
            "Model hash": "6ce0161689",
            "Clip skip": "2",
            "Lora hashes": "castles_v2: 1a2b3c4d5e6f, other: 0f9e8d7c",
            "Hires upscaler": "Latent (nearest-exact)",
            "Version": "v1.6.0",
        },
    }


def test_it_reads_the_schedule_type_of_newer_automatic1111_and_samplers_we_lack() -> None:
    newer = parameters_parse(
        "a cat\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1"
    )
    assert newer["sampler"] == "dpmpp_2m_karras"
    assert "Schedule type" not in newer["other"]
    other = parameters_parse("a cat\nSteps: 20, Sampler: Heun, CFG scale: 7, Seed: 1, Size: 8x8")
    assert other["sampler"] == "Heun"
    assert (other["prompt"], other["negative_prompt"]) == ("a cat", "")


def test_text_without_a_settings_line_is_all_prompt() -> None:
    assert parameters_parse("a cat: sitting, on a mat") == {
        "prompt": "a cat: sitting, on a mat",
        "negative_prompt": "",
        "other": {},
    }
    broken = parameters_parse("a cat\nSteps: many, Seed: none, CFG scale: nan, Size: big")
    assert broken == {
        "prompt": "a cat",
        "negative_prompt": "",
        "other": {"Size": "big"},
    }
