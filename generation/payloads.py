"""The JSON shapes of models and generations, shared by the API, the pages and live events."""

from collections.abc import Callable
from typing import Any

from django.urls import reverse

from generation.models import DiffusionModel, Generation
from generation.standing import Standing


def _relative(url: str) -> str:
    return url


def images_payload(
    generation: Generation, absolute: Callable[[str], str] = _relative
) -> list[dict[str, Any]]:
    return [
        {
            "url": absolute(image.url),
            "thumbnail_url": absolute(image.thumbnail_url),
            "seed": image.seed,
            "width": image.width,
            "height": image.height,
        }
        for image in generation.images.all()
    ]


def model_payload(model: DiffusionModel) -> dict[str, Any]:
    return {
        "slug": model.slug,
        "name": model.name,
        "description": model.description,
        "is_demo": model.is_demo,
        "family": model.family,
        "default_steps": model.default_steps,
        "max_steps": model.max_steps,
        "default_width": model.default_width,
        "default_height": model.default_height,
        "max_width": model.max_width,
        "max_height": model.max_height,
        "default_guidance": model.default_guidance,
        "max_guidance": model.max_guidance,
        "credits_per_image": model.credits_per_image,
    }


def request_fields(generation: Generation) -> dict[str, Any]:
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
    }


def _timestamp(value: Any) -> str | None:
    return value.isoformat() if value else None


def generation_payload(
    generation: Generation,
    *,
    standing: Standing | None,
    absolute: Callable[[str], str] = _relative,
) -> dict[str, Any]:
    return {
        "id": str(generation.id),
        "status": generation.status,
        "revision": generation.revision,
        **request_fields(generation),
        "position": standing.position if standing else None,
        "eta_seconds": standing.eta_seconds if standing else None,
        "waiting_for_worker": standing.waiting_for_worker if standing else False,
        "progress": {"step": generation.progress_step, "total": generation.steps},
        "images": images_payload(generation, absolute),
        "error": generation.error or None,
        "credits_charged": generation.credits_charged,
        "is_public": generation.is_public,
        "share_url": absolute(reverse("gallery-share", args=[generation.share_token]))
        if generation.is_public and generation.share_token
        else None,
        "created_at": _timestamp(generation.created_at),
        "started_at": _timestamp(generation.started_at),
        "finished_at": _timestamp(generation.finished_at),
    }
