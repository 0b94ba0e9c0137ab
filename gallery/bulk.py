"""Acting on many generations of the gallery at once (a zip of their pictures, deleting them
after a confirmation), and starring one as a favourite."""

import tempfile
import uuid
import zipfile
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from generation.models import Generation
from generation.services.library import generation_delete, generation_favourite_set
from generation.views import download_name
from rollerai.auth import signed_in_user
from rollerai.exceptions import DomainError, NotFound

# A zip is made on the web server, from storage: big enough for a page of the gallery.
MOST_AT_ONCE = 50
# Zips smaller than this are made in memory, bigger ones in a temporary file.
ZIP_IN_MEMORY_BYTES = 32 * 1024 * 1024


class SelectionError(Exception):
    pass


def _selected(request: HttpRequest) -> list[Generation]:
    """The viewer's generations whose ids the form sent, in the gallery's order; anything else
    in the selection refuses the whole request."""
    raw = request.POST.getlist("ids")
    if not raw:
        raise SelectionError("Select at least one generation first.")
    if len(raw) > MOST_AT_ONCE:
        raise SelectionError(f"Select at most {MOST_AT_ONCE} generations at a time.")
    try:
        ids = {uuid.UUID(value) for value in raw}
    except ValueError:
        raise SelectionError("The selection is not valid; reload the gallery and try again.")
    generations = list(
        Generation.objects.filter(user=signed_in_user(request), id__in=ids)
        .prefetch_related("images")
        .order_by("-created_at", "-id")
    )
    if len(generations) != len(ids):
        raise SelectionError("Some of the selected generations are gone or not yours.")
    return generations


def _back_to_gallery(request: HttpRequest) -> HttpResponse:
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("gallery")


@login_required
@require_POST
def gallery_bulk(request: HttpRequest) -> HttpResponseBase:
    try:
        generations = _selected(request)
    except SelectionError as error:
        messages.error(request, str(error))
        return _back_to_gallery(request)
    if request.POST.get("action") == "download":
        return _zip_response(generations)
    if request.POST.get("confirm") != "1":
        return render(
            request,
            "gallery/bulk_delete.html",
            {"generations": generations, "next": request.POST.get("next", "")},
        )
    return _delete(request, generations)


def _delete(request: HttpRequest, generations: list[Generation]) -> HttpResponse:
    deleted, refused = 0, []
    for generation in generations:
        try:
            generation_delete(user=signed_in_user(request), generation_id=generation.id)
            deleted += 1
        except DomainError as error:
            refused.append(f"“{generation.prompt[:60]}”: {error.message}")
    if deleted:
        messages.success(request, f"Deleted {deleted} generation{'' if deleted == 1 else 's'}.")
    for reason in refused:
        messages.error(request, f"Not deleted: {reason}")
    return _back_to_gallery(request)


def _zip_response(generations: list[Generation]) -> HttpResponseBase:
    # Closed by the response once sent.
    archive: Any = tempfile.SpooledTemporaryFile(max_size=ZIP_IN_MEMORY_BYTES)  # noqa: SIM115
    names: set[str] = set()
    # PNGs are compressed already: stored as they are, the zip is made at the speed of storage.
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zipped:
        for generation in generations:
            for image in generation.images.all():
                image.generation = generation
                name = _unique(download_name(image), names)
                with default_storage.open(str(image.image.name)) as picture:
                    zipped.writestr(name, picture.read())
    archive.seek(0)
    count = len(generations)
    return FileResponse(
        archive,
        as_attachment=True,
        filename=f"rollerai-{count}-generation{'' if count == 1 else 's'}.zip",
        content_type="application/zip",
    )


def _unique(name: str, taken: set[str]) -> str:
    """Two pictures of one prompt and seed (a remix) would overwrite each other in the zip."""
    stem, number, candidate = name.removesuffix(".png"), 2, name
    while candidate in taken:
        candidate, number = f"{stem}-{number}.png", number + 1
    taken.add(candidate)
    return candidate


@login_required
@require_POST
def gallery_favourite(request: HttpRequest, generation_id: uuid.UUID) -> HttpResponse:
    """Stars (favourite=1) or unstars a generation; a script gets JSON, a plain form goes
    back to where it was sent from."""
    wanted = request.POST.get("favourite") == "1"
    scripted = "application/json" in request.headers.get("Accept", "")
    try:
        generation_favourite_set(
            user=signed_in_user(request), generation_id=generation_id, favourite=wanted
        )
    except NotFound:
        if scripted:
            return JsonResponse({"error": {"message": "No such generation."}}, status=404)
        messages.error(request, "No such generation.")
        return redirect("gallery")
    if scripted:
        return JsonResponse({"favourite": wanted})
    return _back_to_gallery(request)
