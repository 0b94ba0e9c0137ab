"""Builds and saves random-weight Stable Diffusion 1.x pipelines without downloading anything:
the tiny one that local runs and tests use, and one of SD 1.5's full size for benchmarks."""

import os
import pathlib
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

import torch
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

START_OF_TEXT = "<|startoftext|>"
END_OF_TEXT = "<|endoftext|>"
END_OF_WORD = "</w>"
MAX_TOKENS = 77
TEXT_HIDDEN_SIZE = 32

# BPE applies merges in this order, so each half must be a byte symbol or an earlier result.
MERGES: tuple[tuple[str, str], ...] = (
    ("t", "h"),
    ("i", "n"),
    ("e", "r"),
    ("a", "n"),
    ("r", "e"),
    ("o", "n"),
    ("o", "u"),
    ("e", "n"),
    ("o", "r"),
    ("s", "t"),
    ("a", "r"),
    ("a", "l"),
    ("l", "e"),
    ("th", "e</w>"),
    ("a", "t</w>"),
    ("o", "n</w>"),
    ("e", "d</w>"),
    ("in", "g</w>"),
    ("e", "s</w>"),
    ("e", "r</w>"),
    ("o", "f</w>"),
    ("t", "o</w>"),
    ("i", "s</w>"),
    ("n", "d</w>"),
    ("an", "d</w>"),
    ("c", "at</w>"),
    ("re", "d</w>"),
    ("b", "l"),
    ("u", "e</w>"),
    ("bl", "ue</w>"),
    ("s", "o"),
    ("f", "a</w>"),
    ("so", "fa</w>"),
    ("d", "o"),
    ("do", "g</w>"),
    ("p", "h"),
    ("o", "to</w>"),
    ("ph", "oto</w>"),
)


def _bytes_to_unicode() -> dict[int, str]:
    """CLIP's reversible map from each byte to a printable unicode character."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


def _build_vocab() -> dict[str, int]:
    """Byte symbols, their end-of-word forms, the merge results, then the special tokens."""
    symbols = list(_bytes_to_unicode().values())
    tokens = symbols + [s + END_OF_WORD for s in symbols]
    for left, right in MERGES:
        if left not in tokens or right not in tokens or left + right in tokens:
            raise ValueError(f"merge {left!r} + {right!r} does not fit the vocabulary")
        tokens.append(left + right)
    tokens += [START_OF_TEXT, END_OF_TEXT]
    return {token: index for index, token in enumerate(tokens)}


def tokenizer_build() -> CLIPTokenizer:
    # The vocab_file/merges_file arguments are ignored by transformers 5 and give a useless
    # tokenizer; only in-memory vocab/merges build a real BPE model.
    # The BPE model wants pairs although the signature says list[str].
    merges: list[Any] = list(MERGES)
    return CLIPTokenizer(
        vocab=_build_vocab(),
        merges=merges,
        model_max_length=MAX_TOKENS,
    )


@dataclass(frozen=True)
class Architecture:
    """The sizes of one Stable Diffusion 1.x pipeline's parts, as their configs' fields."""

    text_encoder: dict[str, Any]
    unet: dict[str, Any]
    vae: dict[str, Any]
    # Full size is saved in half precision, as released SD 1.5 weights are: half the files and
    # their loading. Workers load weights in the precision of their device either way.
    saved_in_half: bool = False


TINY = Architecture(
    text_encoder={
        "hidden_size": TEXT_HIDDEN_SIZE,
        "intermediate_size": 37,
        "num_attention_heads": 4,
        "num_hidden_layers": 5,
    },
    # sample_size 32 latents times the VAE's factor 8 makes the pipeline default to 256 px.
    unet={
        "block_out_channels": (32, 64),
        "layers_per_block": 2,
        "sample_size": 32,
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
        "cross_attention_dim": TEXT_HIDDEN_SIZE,
    },
    # Four blocks give the pipeline a scale factor of 2 ** 3 = 8, the same as real SD.
    vae={
        "block_out_channels": (8, 16, 32, 32),
        "layers_per_block": 1,
        "norm_num_groups": 8,
        "sample_size": 256,
    },
)

# Stable Diffusion 1.5 at full size (the configs of its released UNet, VAE and CLIP ViT-L/14 text
# encoder): about 860M, 84M and 123M parameters. Its 49408-token embedding is kept although the
# local tokenizer uses only its first few hundred rows, so the work per step is the real one.
SD15 = Architecture(
    text_encoder={
        "vocab_size": 49408,
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_attention_heads": 12,
        "num_hidden_layers": 12,
        "projection_dim": 768,
        "hidden_act": "quick_gelu",
    },
    unet={
        "block_out_channels": (320, 640, 1280, 1280),
        "layers_per_block": 2,
        "sample_size": 64,
        "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        "cross_attention_dim": 768,
        "attention_head_dim": 8,
    },
    vae={
        "block_out_channels": (128, 256, 512, 512),
        "layers_per_block": 2,
        "sample_size": 512,
    },
    saved_in_half=True,
)
ARCHITECTURES = {"tiny": TINY, "sd15": SD15}


def text_encoder_build(architecture: Architecture, tokenizer: CLIPTokenizer) -> CLIPTextModel:
    fields = {"vocab_size": len(tokenizer), **architecture.text_encoder}
    config = CLIPTextConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        max_position_embeddings=MAX_TOKENS,
        layer_norm_eps=1e-5,
        **fields,
    )
    return CLIPTextModel(config)


def unet_build(architecture: Architecture) -> UNet2DConditionModel:
    return UNet2DConditionModel(in_channels=4, out_channels=4, **architecture.unet)


def vae_build(architecture: Architecture) -> AutoencoderKL:
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        **architecture.vae,
    )


def _build_scheduler() -> DDIMScheduler:
    return DDIMScheduler(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )


def _build_pipeline(architecture: Architecture, seed: int) -> StableDiffusionPipeline:
    # A forked RNG keeps the weights seeded without disturbing the caller's global RNG state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        tokenizer = tokenizer_build()
        text_encoder = text_encoder_build(architecture, tokenizer)
        unet = unet_build(architecture)
        vae = vae_build(architecture)
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=_build_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def tiny_pipeline_save(*, folder: pathlib.Path, seed: int = 0) -> None:
    """Build the tiny pipeline with weights from `seed` and save it into `folder`, replacing it."""
    random_pipeline_save(folder=folder, architecture=TINY, seed=seed)


def random_pipeline_save(
    *, folder: pathlib.Path, architecture: Architecture, seed: int = 0
) -> None:
    """Build a pipeline of this architecture with random weights from `seed` and save it into
    `folder`, replacing it."""
    # Type checkers see diffusers' dummy stand-in for this class, which lacks save_pretrained.
    pipeline: Any = _build_pipeline(architecture, seed)
    if architecture.saved_in_half:
        # nn.Module's own cast: diffusers' to(dtype) warns of float32-only modules it has none of.
        for part in (pipeline.unet, pipeline.vae, pipeline.text_encoder):
            part.half()
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Saving beside the target and swapping it in leaves no stale files from an older save.
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        pipeline.save_pretrained(staging, safe_serialization=True)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
