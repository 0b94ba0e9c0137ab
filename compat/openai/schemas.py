"""OpenAI's Images API shapes, as far as this site fills them."""

from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from generation.schemas import MAX_IMAGES

ResponseFormat = Literal["url", "b64_json"]
SIZE_PATTERN = r"^(auto|\d{1,5}x\d{1,5})$"


class ImageGenerationRequest(Schema):
    """POST /v1/images/generations. Fields OpenAI defines that do not apply here (`quality`,
    `style`, `background`, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    prompt: str
    model: str | None = Field(
        None, description="A model's id from /v1/models; the first by default."
    )
    n: int | None = Field(None, ge=1, le=MAX_IMAGES, description="How many images.")
    size: str | None = Field(
        None, pattern=SIZE_PATTERN, description="WIDTHxHEIGHT, or auto: the model's own size."
    )
    response_format: ResponseFormat | None = Field(
        None,
        description="url (the default): links that work without signing in for an hour; "
        "b64_json: the PNGs themselves.",
    )
    user: str | None = Field(None, description="Accepted and ignored.")
    quality: str | None = Field(None, description="Accepted and ignored.")
    style: str | None = Field(None, description="Accepted and ignored.")


class ImageData(Schema):
    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str


class ImagesResponse(Schema):
    created: int
    data: list[ImageData]


class ModelObject(Schema):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(Schema):
    object: Literal["list"] = "list"
    data: list[ModelObject]
