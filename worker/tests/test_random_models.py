"""The random-weight models create_tiny_model builds: the full-size one has Stable Diffusion
1.5's architecture, checked on torch's meta device (no weights allocated) so it stays cheap."""

import torch

from worker.tiny_model import SD15, text_encoder_build, tokenizer_build, unet_build, vae_build


def parameters(module: torch.nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def test_the_sd15_model_has_the_parameter_counts_of_stable_diffusion_1_5() -> None:
    with torch.device("meta"):
        unet = unet_build(SD15)
        vae = vae_build(SD15)
        text_encoder = text_encoder_build(SD15, tokenizer_build())

    # The released SD 1.5 UNet, VAE and CLIP ViT-L/14 text encoder, parameter for parameter.
    assert parameters(unet) == 859_520_964
    assert parameters(vae) == 83_653_863
    assert parameters(text_encoder) == 123_060_480
    # Its images default to 512 px: 64 latents, scaled up 8 times by the VAE.
    assert unet.config.sample_size * 2 ** (len(vae.config.block_out_channels) - 1) == 512
    assert text_encoder.config.max_position_embeddings == 77
