"""AUTOMATIC1111's web API under /sdapi/v1/: point a client (webuiapi, the Krita and Photoshop
plugins, SillyTavern) at the site and log in as AUTOMATIC1111's --api-auth asks, with HTTP
Basic whose password is an API key of this site (the user name is ignored). Images are made
like any other generation and the answer comes once they are done."""

import base64
import binascii
import json
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja import Body, Query, Router
from ninja.security import HttpBasicAuth

from accounts.services import api_key_authenticate
from compat.automatic1111.errors import FIELDS, sdapi_domain_error
from compat.automatic1111.options import checkpoint_for, checkpoint_of, checkpoint_set
from compat.automatic1111.progress import progress_of
from compat.automatic1111.schemas import (
    ImagesAnswer,
    Img2ImgRequest,
    Progress,
    Sampler,
    SdModel,
    Txt2ImgRequest,
)
from compat.ninja_api import CompatApi
from compat.requests import generation_request
from compat.waiting import Made, image_data_url, images_made
from generation.samplers import SAMPLERS
from generation.schemas import MAX_IMAGES
from generation.selectors import generation_current_for_user, models_enabled
from generation.services import generation_cancel
from rollerai.auth import signed_in_user
from rollerai.exceptions import InvalidRequest, NotSignedIn


class KeyAsPassword(HttpBasicAuth):
    def authenticate(self, request: HttpRequest, username: str, password: str) -> User:
        user = api_key_authenticate(password)
        if user is None:
            raise NotSignedIn(
                "This API key is unknown or has been revoked.", code="invalid_api_key"
            )
        request.user = user
        return user


api = CompatApi(
    title="RollerAI: AUTOMATIC1111 API",
    version="1",
    description=(
        "AUTOMATIC1111's web API, for the clients made for it: log in with HTTP Basic, any "
        "user name and an API key made on /accounts/ as the password."
    ),
    urls_namespace="sdapi",
    auth=KeyAsPassword(),
    refusal=sdapi_domain_error,
    not_signed_in=NotSignedIn(
        "Log in with HTTP Basic: any user name, and an API key made on /accounts/ as the password.",
        code="not_authenticated",
    ),
)
router = Router(tags=["AUTOMATIC1111 API"])
# AUTOMATIC1111's sampler labels (and this site's names) -> this site's names.
SAMPLER_NAMES = {label.lower(): name for name, label in SAMPLERS.items()} | {
    name: name for name in SAMPLERS
}


@router.post("/txt2img", response=ImagesAnswer)
async def txt2img(request: HttpRequest, payload: Txt2ImgRequest) -> ImagesAnswer:
    """Images from a prompt."""
    fields = await _fields(request, payload)
    made = await images_made(request, generation_request(fields, FIELDS))
    return _answer(made, payload)


@router.post("/img2img", response=ImagesAnswer)
async def img2img(request: HttpRequest, payload: Img2ImgRequest) -> ImagesAnswer:
    """The first of init_images made again after the prompt (masks are not supported yet)."""
    if payload.mask:
        raise InvalidRequest("Masks (inpainting) are not supported yet.", field="mask")
    if len(payload.init_images) != 1:
        raise InvalidRequest("Send exactly one image in init_images.", field="init_image")
    fields = await _fields(request, payload)
    fields |= {
        "init_image": _data_url(payload.init_images[0]),
        "strength": payload.denoising_strength,
    }
    made = await images_made(request, generation_request(fields, FIELDS))
    return _answer(made, payload)


async def _fields(request: HttpRequest, payload: Txt2ImgRequest) -> dict[str, Any]:
    """The site's request fields for an AUTOMATIC1111 request (left out: the model's own)."""
    count = payload.batch_size * payload.n_iter
    if payload.batch_size < 1 or payload.n_iter < 1 or count > MAX_IMAGES:
        raise InvalidRequest(
            f"batch_size x n_iter must be 1 to {MAX_IMAGES} images.", field="count"
        )
    model = await database_sync_to_async(checkpoint_for)(
        signed_in_user(request), payload.override_settings
    )
    return {
        "prompt": payload.prompt,
        "negative_prompt": payload.negative_prompt or None,
        "model": model,
        "width": payload.width,
        "height": payload.height,
        "steps": payload.steps,
        "guidance": payload.cfg_scale,
        "seed": None if payload.seed == -1 else payload.seed,
        "count": count,
        "sampler": _sampler(payload),
    }


def _sampler(payload: Txt2ImgRequest) -> str | None:
    label = (payload.sampler_name or payload.sampler_index or "").strip()
    if not label:
        return None
    if (payload.scheduler or "").lower() == "karras" and label.lower() == "dpm++ 2m":
        label = "DPM++ 2M Karras"
    name = SAMPLER_NAMES.get(label.lower())
    if name is None:
        known = ", ".join(SAMPLERS.values())
        raise InvalidRequest(f"Unknown sampler '{label}'; there are {known}.", field="sampler")
    return name


def _data_url(image: str) -> str:
    """An init image as AUTOMATIC1111 takes it: a data: URL, or plain base64."""
    if image.startswith("data:"):
        return image
    try:
        return image_data_url(base64.b64decode(image, validate=True))
    except (binascii.Error, ValueError):
        raise InvalidRequest("init_images must hold a base64 image.", field="init_image")


def _answer(made: Made, payload: Txt2ImgRequest) -> ImagesAnswer:
    generation = made.generation
    seeds = [image.seed for image in made.images]
    info = {
        "prompt": generation.prompt,
        "all_prompts": [generation.prompt] * len(seeds),
        "negative_prompt": generation.negative_prompt,
        "all_negative_prompts": [generation.negative_prompt] * len(seeds),
        "seed": generation.seed,
        "all_seeds": seeds,
        "subseed": -1,
        "all_subseeds": [-1] * len(seeds),
        "width": generation.width,
        "height": generation.height,
        "sampler_name": SAMPLERS.get(generation.sampler or generation.model.default_sampler, ""),
        "cfg_scale": generation.guidance,
        "steps": generation.steps,
        "batch_size": len(seeds),
        "denoising_strength": generation.strength,
        "sd_model_name": generation.model.slug,
        "sd_model_hash": None,
        "job_timestamp": generation.created_at.strftime("%Y%m%d%H%M%S"),
        "generation_id": str(generation.id),
    }
    return ImagesAnswer(
        images=[base64.b64encode(png).decode() for png in made.pngs],
        parameters=payload.model_dump(exclude={"init_images"}),
        info=json.dumps(info),
    )


@router.get("/sd-models", response=list[SdModel])
def sd_models(request: HttpRequest) -> list[SdModel]:
    """The enabled models; the title is what sd_model_checkpoint takes."""
    return [
        SdModel(title=model.slug, model_name=model.slug, filename=model.slug)
        for model in models_enabled()
    ]


@router.get("/samplers", response=list[Sampler])
def samplers(request: HttpRequest) -> list[Sampler]:
    return [Sampler(name=label, aliases=[name], options={}) for name, label in SAMPLERS.items()]


@router.get("/options", response=dict[str, Any])
def options_get(request: HttpRequest) -> dict[str, Any]:
    """The account's options; only sd_model_checkpoint means anything here."""
    chosen = checkpoint_of(signed_in_user(request)) or _first_model()
    return {"sd_model_checkpoint": chosen, "sd_checkpoint_hash": None, "samples_format": "png"}


@router.post("/options", response=dict[str, Any])
def options_set(request: HttpRequest, payload: Body[dict[str, Any]]) -> dict[str, Any]:
    """Sets sd_model_checkpoint, the model of this account's requests that name none; other
    options are accepted and ignored."""
    title = payload.get("sd_model_checkpoint")
    if title is not None:
        checkpoint_set(signed_in_user(request), str(title))
    return {}


def _first_model() -> str:
    model = models_enabled().first()
    return model.slug if model else ""


@router.get("/progress", response=Progress)
def progress(request: HttpRequest, skip_current_image: Query[bool] = False) -> Progress:
    """How far the account's current generation has got (the oldest running one, else the one
    first in line), with its live preview."""
    return progress_of(signed_in_user(request), with_image=not skip_current_image)


@router.post("/interrupt", response=dict[str, Any])
def interrupt(request: HttpRequest) -> dict[str, Any]:
    """Cancels the account's current generation; its credits come back as with any cancel."""
    user = signed_in_user(request)
    current = generation_current_for_user(user=user)
    if current is not None:
        generation_cancel(user=user, generation_id=current.id)
    return {}


@router.get("/scripts", response=dict[str, list[str]])
def scripts(request: HttpRequest) -> dict[str, list[str]]:
    """No scripts or extensions here (clients ask at start)."""
    return {"txt2img": [], "img2img": []}


api.add_router("", router)
