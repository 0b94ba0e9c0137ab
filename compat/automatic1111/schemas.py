"""AUTOMATIC1111's /sdapi/v1/ shapes, as far as this site fills them. Requests accept every
field AUTOMATIC1111 defines (clients send them all) and use the ones named here."""

from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field


class Txt2ImgRequest(Schema):
    model_config = ConfigDict(extra="allow")

    prompt: str = ""
    negative_prompt: str = ""
    steps: int | None = Field(None, description="The model's default when left out.")
    cfg_scale: float | None = Field(None, description="The model's default when left out.")
    width: int | None = Field(None, description="The model's default when left out.")
    height: int | None = Field(None, description="The model's default when left out.")
    seed: int = Field(-1, description="-1: a random one.")
    batch_size: int = 1
    n_iter: int = Field(1, description="batch_size x n_iter images, at most 4, in one go.")
    sampler_name: str | None = Field(None, description="A name /sdapi/v1/samplers lists.")
    sampler_index: str | None = Field(None, description="The older name of sampler_name.")
    scheduler: str | None = Field(None, description="Karras, with DPM++ 2M; else ignored.")
    override_settings: dict[str, Any] | None = Field(
        None, description="sd_model_checkpoint: the model for this request only."
    )


class Img2ImgRequest(Txt2ImgRequest):
    init_images: list[str] = Field(
        default_factory=list, description="One image, base64 (or a data: URL)."
    )
    denoising_strength: float = Field(0.75, description="0.05-1: how far from the image.")
    mask: str | None = Field(None, description="Not supported yet (inpainting).")


class ImagesAnswer(Schema):
    images: list[str]
    parameters: dict[str, Any]
    info: str


class SdModel(Schema):
    title: str
    model_name: str
    hash: str | None = None
    sha256: str | None = None
    filename: str
    config: str | None = None


class Sampler(Schema):
    name: str
    aliases: list[str]
    options: dict[str, Any]


class ProgressState(Schema):
    skipped: bool = False
    interrupted: bool = False
    job: str = ""
    job_count: int
    job_timestamp: str
    job_no: int = 0
    sampling_step: int
    sampling_steps: int


class Progress(Schema):
    progress: float
    eta_relative: float
    state: ProgressState
    current_image: str | None
    textinfo: str | None
