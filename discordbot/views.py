"""The interactions endpoint Discord calls (set as the application's Interactions Endpoint
URL; only signed requests get past its first lines), and the page a result's Open button
links to."""

import json
import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from discordbot import replies
from discordbot.interactions import interaction_answer
from discordbot.selectors import discord_result, discord_result_image
from discordbot.signatures import interaction_verified
from generation.views import stored_file
from rollerai.exceptions import NotFound

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def interactions(request: HttpRequest) -> HttpResponse:
    if not (settings.DISCORD_APPLICATION_ID and settings.DISCORD_PUBLIC_KEY):
        raise Http404("The Discord bot is not configured on this site.")
    if not interaction_verified(
        public_key=settings.DISCORD_PUBLIC_KEY,
        signature=request.headers.get("X-Signature-Ed25519", ""),
        timestamp=request.headers.get("X-Signature-Timestamp", ""),
        body=request.body,
    ):
        return HttpResponse("Invalid request signature.", status=401, content_type="text/plain")
    try:
        document = json.loads(request.body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return HttpResponse("Expected a JSON object.", status=400, content_type="text/plain")
    site_url = settings.SITE_URL or request.build_absolute_uri("/").rstrip("/")
    try:
        return JsonResponse(interaction_answer(document, site_url=site_url))
    except Exception:
        # An answer is still owed within Discord's 3 s, or the user sees "The application did
        # not respond"; what went wrong is in the log.
        log.exception("Could not answer a Discord interaction")
        return JsonResponse(
            replies.private("Something went wrong on our side. Please try again in a minute.")
        )


def result(request: HttpRequest, link_token: str) -> HttpResponse:
    """A result posted in Discord, for anyone with its Open link (signed in or not)."""
    try:
        generation = discord_result(link_token=link_token)
    except NotFound:
        raise Http404("No such image.")
    return render(
        request,
        "discordbot/result.html",
        {
            "generation": generation,
            "images": list(generation.images.all()),
            "link_token": link_token,
            "is_owner": generation.user_id == request.user.pk,
        },
    )


def result_image(request: HttpRequest, link_token: str, index: int) -> HttpResponseBase:
    try:
        image = discord_result_image(link_token=link_token, index=index)
    except NotFound:
        raise Http404("No such image.")
    return stored_file(str(image.image.name), content_type="image/png")
