"""What both compatible APIs do with a request for images: submit it through the same service
as the site's own API (the same checks, charge, refunds and rate limits), wait for the images on
the event loop, and read them back. A client that goes away leaves its generation running; it
lands in the gallery like any other."""

import base64
from dataclasses import dataclass
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest
from django.urls import reverse

from compat.errors import GenerationCancelled, GenerationFailed, Misdirected, WaitedTooLong
from generation.models import Generation, GenerationImage
from generation.schemas import GenerationRequest
from generation.services import generation_submit
from generation.waiting import generation_wait
from rollerai.auth import signed_in_user


@dataclass(frozen=True)
class Made:
    generation: Generation
    images: list[GenerationImage]
    # Each image's PNG, its settings in the `parameters` chunk.
    pngs: list[bytes]


async def images_made(request: HttpRequest, data: GenerationRequest) -> Made:
    """Images for the request's user, once they are done; raises a DomainError if they are
    refused, fail, are cancelled or take longer than COMPAT_WAIT_SECONDS."""
    live_server_check(request)
    submit = database_sync_to_async(generation_submit)
    generation = await submit(user=signed_in_user(request), data=data, origin=Generation.Origin.API)
    finished = await generation_wait(generation=generation, timeout=settings.COMPAT_WAIT_SECONDS)
    if finished is None:
        page = request.build_absolute_uri(reverse("gallery-detail", args=[generation.id]))
        raise WaitedTooLong(
            f"The images were not ready within {settings.COMPAT_WAIT_SECONDS} s. They are still "
            f"being made and will be in your gallery: {page}"
        )
    ended = finished.generation
    credits_back = f"its {ended.credits_charged} credits came back"
    if ended.status == Generation.Status.FAILED:
        raise GenerationFailed(f"The generation failed: {ended.error} {credits_back.capitalize()}.")
    if ended.status == Generation.Status.CANCELED:
        raise GenerationCancelled(f"The generation was cancelled; {credits_back}.")
    pngs = await sync_to_async(_pngs_read)(finished.images)
    return Made(generation=ended, images=finished.images, pngs=pngs)


def live_server_check(request: HttpRequest) -> None:
    """Refuse a waiting request on the HTTP server (WSGI), where it would hold a process."""
    if isinstance(request, ASGIRequest):
        return
    where = _live_server_url()
    raise Misdirected(
        "This request waits for its images, which the live server does: send it to "
        + (f"{where} instead." if where else "the live server (the Procfile's `live`).")
    )


def _live_server_url() -> str:
    # The live server's address, from where pages open its websocket (set under `make run`).
    url = urlsplit(settings.LIVE_EVENTS_URL)
    if not url.netloc:
        return ""
    return f"{'https' if url.scheme == 'wss' else 'http'}://{url.netloc}"


def _pngs_read(images: list[GenerationImage]) -> list[bytes]:
    pngs = []
    for image in images:
        with default_storage.open(str(image.image.name)) as stored:
            pngs.append(stored.read())
    return pngs


def image_data_url(data: bytes) -> str:
    """An uploaded image as the data: URL that generation_submit takes, typed by its first bytes
    (uploads rarely say what they are)."""
    # Anything else is declared PNG, and refused there as not being one.
    media_type = "image/png"
    if data.startswith(b"\xff\xd8"):
        media_type = "image/jpeg"
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        media_type = "image/webp"
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"
