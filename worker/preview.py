"""Cheap live previews: latents mapped straight to colours by a fixed linear approximation of
the VAE (a 4x3 matrix per model family), instead of a full decode that would cost a step."""

import base64
import io

import torch
from PIL import Image

from generation.models import DiffusionModel

# Least-squares fits of latent channels to RGB, as published for SD 1.x/2.x and SDXL latents.
LATENT_RGB: dict[str, list[list[float]]] = {
    DiffusionModel.Family.SD: [
        [0.3512, 0.2297, 0.3227],
        [0.3250, 0.4974, 0.2350],
        [-0.2829, 0.1762, 0.2721],
        [-0.2120, -0.2616, -0.7177],
    ],
    DiffusionModel.Family.SDXL: [
        [0.3651, 0.4232, 0.4341],
        [-0.2533, -0.0042, 0.1068],
        [0.1076, 0.1111, -0.0362],
        [-0.3165, -0.2492, -0.2188],
    ],
}
PREVIEW_SIDE = 128


def latent_preview(latent: torch.Tensor, family: str) -> str:
    """A small WebP of one image's latents (channels, height, width), as a data URL."""
    factors = LATENT_RGB.get(family, LATENT_RGB[DiffusionModel.Family.SD])
    matrix = torch.tensor(factors, dtype=torch.float32)
    rgb = torch.einsum("chw,cr->hwr", latent.detach().float().cpu()[: len(factors)], matrix)
    pixels = ((rgb + 1) / 2).clamp(0, 1).mul(255).to(torch.uint8).numpy()
    image = Image.fromarray(pixels, "RGB")
    scale = PREVIEW_SIDE / max(image.size)
    image = image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
        Image.Resampling.BILINEAR,
    )
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=60)
    return "data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode()
