"""The JSON shapes of models and generations: what a submit request may hold (checked here, once)
and what the API, the pages and live events show. The OpenAPI document is generated from these.

Limits that depend on the chosen model (its sizes, steps and guidance) are documented here and
checked by generation.validation, which knows the model.
"""

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias
from uuid import UUID

from django.urls import reverse
from ninja import Field, Schema
from pydantic import ConfigDict, StrictInt

from generation import models
from generation.samplers import SAMPLERS
from generation.standing import Standing
from rollerai.api_fields import SLUG_PATTERN, Slug, one_line_text, whole_number

MAX_PROMPT_LENGTH = 1000
MIN_SIDE = 64
MAX_IMAGES = 4
MAX_SEED = 2**32 - 1
MAX_PAGE_SIZE = 100
Status = Literal["queued", "running", "succeeded", "failed", "canceled"]
Family = Literal["sd", "sdxl", "turbo"]
Origin = Literal["web", "api", "discord"]
Kind = Literal["text", "image", "variations", "upscale"]
# Image-to-image: how far sampling may move away from the init image.
MIN_STRENGTH = 0.05
MAX_STRENGTH = 1.0
DEFAULT_STRENGTH = 0.6
# An uploaded init image, decoded; its data URL (base64) is about a third longer.
MAX_INIT_IMAGE_BYTES = 4 * 1024 * 1024
INIT_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
DATA_URL_PATTERN = r"^data:image/(png|jpeg|webp);base64,"
# A cursor is base64 (URL-safe) of where the previous page ended.
CURSOR_PATTERN = r"^[A-Za-z0-9_=-]*$"

if TYPE_CHECKING:
    # mypy sees the Python types; pydantic sees the checked ones below.
    Prompt: TypeAlias = str
    NegativePrompt: TypeAlias = str
    Seed: TypeAlias = int
    ImageCount: TypeAlias = int
    ImageIndex: TypeAlias = int
    PageSize: TypeAlias = int
    SamplerName: TypeAlias = str
else:
    Prompt = one_line_text(required=True, max_length=MAX_PROMPT_LENGTH)
    NegativePrompt = one_line_text(required=False, max_length=MAX_PROMPT_LENGTH)
    Seed = whole_number(0, MAX_SEED)
    ImageCount = whole_number(1, MAX_IMAGES)
    ImageIndex = whole_number(0, MAX_IMAGES - 1)
    PageSize = whole_number(1, MAX_PAGE_SIZE, strict=False)
    # A Literal, so that the OpenAPI document lists the names.
    SamplerName = Literal[tuple(SAMPLERS)]


def _relative(url: str) -> str:
    return url


class ImageReference(Schema):
    """One image of this site: one of yours, or of a public generation."""

    model_config = ConfigDict(extra="forbid")

    generation: UUID
    index: ImageIndex


class GenerationRequest(Schema):
    """POST /api/v1/generations. Fields left out (or null) take the model's defaults."""

    model_config = ConfigDict(extra="forbid")

    prompt: Prompt
    negative_prompt: NegativePrompt | None = None
    model: Slug | None = Field(None, description="A model's slug; by default the first one.")
    width: StrictInt | None = Field(
        None,
        description="At most the model's max_width.",
        json_schema_extra={"minimum": MIN_SIDE, "multipleOf": 8},
    )
    height: StrictInt | None = Field(
        None,
        description="At most the model's max_height.",
        json_schema_extra={"minimum": MIN_SIDE, "multipleOf": 8},
    )
    steps: StrictInt | None = Field(
        None, description="At most the model's max_steps.", json_schema_extra={"minimum": 1}
    )
    guidance: float | None = Field(
        None,
        strict=True,
        allow_inf_nan=False,
        description="At most the model's max_guidance.",
        json_schema_extra={"minimum": 0},
    )
    seed: Seed | None = Field(
        None, description="By default a random one, recorded so the image can be made again."
    )
    count: ImageCount | None = None
    sampler: SamplerName | None = Field(
        None, description="A sampler's name; by default the model's own."
    )
    init_image: ImageReference | str | None = Field(
        None,
        description="Start from an image (image-to-image): one of yours or a public one, or a "
        "data URL (data:image/png;base64,..., also image/jpeg and image/webp) of at most "
        f"{MAX_INIT_IMAGE_BYTES // (1024 * 1024)} MB and at most the model's max_width x "
        "max_height. It is resized to the generation's width x height, which by default is "
        "the image's own (rounded down to multiples of 8, within the model's limits).",
    )
    strength: float | None = Field(
        None,
        strict=True,
        allow_inf_nan=False,
        description="With init_image only: how far from the image sampling may go (by default "
        f"{DEFAULT_STRENGTH}).",
        json_schema_extra={"minimum": MIN_STRENGTH, "maximum": MAX_STRENGTH},
    )


class VariationsRequest(Schema):
    """POST /api/v1/generations/<id>/variations: new images like one of its images."""

    model_config = ConfigDict(extra="forbid")

    index: ImageIndex = 0
    count: ImageCount = MAX_IMAGES


class UpscaleRequest(Schema):
    """POST /api/v1/generations/<id>/upscale: one of its images at twice the size."""

    model_config = ConfigDict(extra="forbid")

    index: ImageIndex = 0


class VisibilityChange(Schema):
    """PATCH /api/v1/generations/<id>: make it public (shareable) or private."""

    model_config = ConfigDict(extra="forbid")
    # The contract's code for a missing or non-boolean 'public' (rollerai.api reads this).
    refusal_codes: ClassVar[dict[str, str]] = {"missing": "invalid"}

    public: bool = Field(..., strict=True)


class GenerationListQuery(Schema):
    """GET /api/v1/generations: which page, and what the list is narrowed to."""

    cursor: str | None = Field(
        None,
        description="The next_cursor of the previous page.",
        json_schema_extra={"pattern": CURSOR_PATTERN},
    )
    limit: PageSize = 20
    q: str | None = Field(None, description="Words that must all appear in the prompt (at most 8).")
    model: Slug | None = None
    status: Status | None = None


class Image(Schema):
    model_config = ConfigDict(extra="forbid")

    url: str
    thumbnail_url: str
    seed: int
    width: int
    height: int


class Progress(Schema):
    model_config = ConfigDict(extra="forbid")

    step: int
    total: int


class Model(Schema):
    """An enabled model and its limits, from GET /api/v1/models (and the generate page)."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(..., pattern=SLUG_PATTERN)
    name: str
    description: str
    is_demo: bool
    family: Family
    default_steps: int
    max_steps: int
    default_width: int
    default_height: int
    max_width: int
    max_height: int
    default_guidance: float
    max_guidance: float
    credits_per_image: int
    credits_per_image_to_image: int
    credits_per_upscale: int
    default_sampler: str | None

    @staticmethod
    def resolve_default_sampler(model: models.DiffusionModel) -> str | None:
        return model.default_sampler or None


class ModelList(Schema):
    model_config = ConfigDict(extra="forbid")

    results: list[Model]


class Generation(Schema):
    model_config = ConfigDict(extra="forbid")

    id: UUID
    status: Status
    revision: int = Field(
        ...,
        ge=1,
        description="Goes up with every status change; of two events or responses about one "
        "generation, the one with the lower revision is out of date.",
    )
    prompt: str
    negative_prompt: str
    model: str
    width: int
    height: int
    steps: int
    guidance: float
    seed: int
    count: int
    position: int | None = Field(..., ge=1)
    eta_seconds: int | None = Field(..., ge=0)
    waiting_for_worker: bool
    gpu_starting_seconds: int | None = Field(
        ...,
        ge=0,
        description="While queued with no GPU up: the autoscaler is starting one, expected up "
        "in about this many seconds (0: any moment). Null when none is starting.",
    )
    at_max: bool = Field(
        ...,
        description="The pool runs all the GPUs it may: no more will start, the ETA counts on "
        "these alone.",
    )
    progress: Progress
    images: list[Image]
    error: str | None
    credits_charged: int
    is_public: bool
    share_url: str | None
    origin: Origin = Field(
        ...,
        description="Where it was asked for: 'web' (the site's pages), 'api' (with an API key) "
        "or 'discord' (the Discord bot's /imagine).",
    )
    kind: Kind = Field(
        ...,
        description="What it starts from: 'text' (a prompt alone), 'image' (an init image), "
        "'variations' or 'upscale' (one of this site's images).",
    )
    sampler: str | None = Field(..., description="The sampler's name; null: the model's own.")
    strength: float | None
    source: ImageReference | None = Field(
        ..., description="The image of this site it started from; null when uploaded or none."
    )
    init_image_url: str | None = Field(
        ..., description="The init image as the worker got it (at width x height)."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(
        cls,
        generation: models.Generation,
        *,
        standing: Standing | None,
        absolute: Callable[[str], str] = _relative,
    ) -> "Generation":
        share_path = (
            reverse("gallery-share", args=[generation.share_token])
            if generation.is_public and generation.share_token
            else None
        )
        return cls.model_construct(
            id=generation.id,
            status=generation.status,
            revision=generation.revision,
            **request_fields(generation),
            position=standing.position if standing else None,
            eta_seconds=standing.eta_seconds if standing else None,
            waiting_for_worker=standing.waiting_for_worker if standing else False,
            gpu_starting_seconds=standing.gpu_starting_seconds if standing else None,
            at_max=standing.at_max if standing else False,
            progress=Progress.model_construct(
                step=generation.progress_step, total=generation.steps
            ),
            images=images_of(generation, absolute),
            error=generation.error or None,
            credits_charged=generation.credits_charged,
            is_public=generation.is_public,
            share_url=absolute(share_path) if share_path else None,
            origin=generation.origin,
            kind=generation.kind,
            strength=generation.strength,
            source=_source(generation),
            init_image_url=absolute(init_image_path(generation)) if generation.init_image else None,
            created_at=generation.created_at,
            started_at=generation.started_at,
            finished_at=generation.finished_at,
        )


class GenerationPage(Schema):
    model_config = ConfigDict(extra="forbid")

    results: list[Generation]
    next_cursor: str | None


def _source(generation: models.Generation) -> ImageReference | None:
    image = generation.source_image
    if image is None:
        return None
    return ImageReference.model_construct(generation=image.generation_id, index=image.index)


def init_image_path(generation: models.Generation) -> str:
    return reverse("generation-init-image", args=[generation.id])


def images_of(
    generation: models.Generation, absolute: Callable[[str], str] = _relative
) -> list[Image]:
    return [
        Image.model_construct(
            url=absolute(image.url),
            thumbnail_url=absolute(image.thumbnail_url),
            seed=image.seed,
            width=image.width,
            height=image.height,
        )
        for image in generation.images.all()
    ]


def request_fields(generation: models.Generation) -> dict[str, Any]:
    """What was asked for, in the fields of a submit request (so it can be asked for again)."""
    return {
        "prompt": generation.prompt,
        "negative_prompt": generation.negative_prompt,
        "model": generation.model.slug,
        "width": generation.width,
        "height": generation.height,
        "steps": generation.steps,
        "guidance": generation.guidance,
        "seed": generation.seed,
        "count": generation.count,
        "sampler": generation.sampler or None,
    }
