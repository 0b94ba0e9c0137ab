"""Gallery pages: the user's own generations, one generation with its actions, the public share
page and Explore."""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from gallery.selectors import generation_shared, generation_source_link, generation_timings
from generation.models import DiffusionModel, Generation
from generation.samplers import sampler_label
from generation.schemas import Model
from generation.selectors import (
    GenerationFilters,
    generation_filters_parse,
    generation_get_for_user,
    generation_page_for_user,
    generation_page_public,
)
from generation.services import generation_cancel
from generation.services.library import generation_delete, generation_visibility_set
from rollerai.auth import signed_in_user
from rollerai.exceptions import DomainError, InvalidRequest, NotFound

GALLERY_PAGE_SIZE = 24
EXPLORE_PAGE_SIZE = 24


@login_required
def gallery(request: HttpRequest) -> HttpResponse:
    status = 200
    oldest = request.GET.get("order") == "oldest"
    try:
        filters = generation_filters_parse(
            query=request.GET.get("q"),
            model=request.GET.get("model"),
            status=request.GET.get("status"),
            favourites=request.GET.get("favourites") == "1",
        )
        page = generation_page_for_user(
            user=request.user,
            cursor=request.GET.get("cursor"),
            limit=GALLERY_PAGE_SIZE,
            filters=filters,
            oldest=oldest,
        )
    except InvalidRequest as error:
        messages.error(request, error.message)
        filters, page, status = GenerationFilters(), None, 400
    cursor = request.GET.get("cursor")
    models = list(DiffusionModel.objects.order_by("name"))
    return render(
        request,
        "gallery/gallery.html",
        {
            "page": page,
            "filters": filters,
            "query": request.GET.get("q", ""),
            "models": models,
            "statuses": Generation.Status.choices,
            "oldest": oldest,
            # The filters and order again, for the pager's links.
            "filter_query": urlencode(
                {
                    "q": request.GET.get("q", ""),
                    "model": filters.model,
                    "status": filters.status,
                    **({"favourites": "1"} if filters.favourites else {}),
                    **({"order": "oldest"} if oldest else {}),
                }
            ),
            # New generations are added live only where they belong: the first, unfiltered
            # page, newest first.
            "live_insert": not cursor and not filters.active and not oldest,
            "first_page": not cursor,
            # The prices of variations and upscales, for the cards that arrive live.
            "models_data": [
                Model.model_validate(model).model_dump() for model in models if model.enabled
            ],
        },
        status=status,
    )


def _own_generation(request: HttpRequest, generation_id: uuid.UUID) -> Generation:
    try:
        return generation_get_for_user(user=request.user, generation_id=generation_id)
    except NotFound:
        raise Http404("No such generation.")


@login_required
def generation_detail(request: HttpRequest, generation_id: uuid.UUID) -> HttpResponse:
    generation = _own_generation(request, generation_id)
    share_url = (
        request.build_absolute_uri(reverse("gallery-share", args=[generation.share_token]))
        if generation.is_public and generation.share_token
        else None
    )
    return render(
        request,
        "gallery/detail.html",
        {
            "generation": generation,
            "timings": generation_timings(generation),
            "share_url": share_url,
            "source": generation_source_link(generation, user=request.user),
            # None named: the model's default runs (its label, unless the model names none).
            "sampler_label": sampler_label(generation.sampler or generation.model.default_sampler),
        },
    )


@login_required
def generation_delete_page(request: HttpRequest, generation_id: uuid.UUID) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    generation = _own_generation(request, generation_id)
    if request.method == "POST":
        try:
            generation_delete(user=signed_in_user(request), generation_id=generation.id)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("gallery-detail", generation_id=generation.id)
        messages.success(request, "The generation and its images were deleted.")
        return redirect("gallery")
    return render(request, "gallery/delete.html", {"generation": generation})


@login_required
@require_POST
def generation_cancel_page(request: HttpRequest, generation_id: uuid.UUID) -> HttpResponse:
    try:
        generation = generation_cancel(user=signed_in_user(request), generation_id=generation_id)
    except NotFound:
        raise Http404("No such generation.")
    except DomainError as error:
        messages.error(request, error.message)
    else:
        credits = generation.credits_charged
        messages.success(
            request,
            f"Cancelled: its {credits} credit{'' if credits == 1 else 's'} "
            "are back on your balance.",
        )
    response = redirect("gallery-detail", generation_id=generation_id)
    # 303: the browser follows the POST's answer with a GET of the page.
    response.status_code = 303
    return response


@login_required
@require_POST
def generation_visibility(request: HttpRequest, generation_id: uuid.UUID) -> HttpResponse:
    public = request.POST.get("public") == "1"
    try:
        generation_visibility_set(
            user=signed_in_user(request), generation_id=generation_id, public=public
        )
    except NotFound:
        raise Http404("No such generation.")
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            "It is public now: anyone with the share link can see it."
            if public
            else "It is private now: only you can see it.",
        )
    return redirect("gallery-detail", generation_id=generation_id)


def share(request: HttpRequest, share_token: str) -> HttpResponse:
    """A public generation, for anyone with the link (signed in or not)."""
    try:
        generation = generation_shared(share_token=share_token)
    except NotFound:
        raise Http404("No such generation.")
    images = list(generation.images.all())
    return render(
        request,
        "gallery/share.html",
        {
            "generation": generation,
            "images": images,
            "page_url": request.build_absolute_uri(),
            # Link previews are fetched by other sites' servers: the URL must be absolute and
            # work without signing in, which it does while the generation is public.
            "og_image": request.build_absolute_uri(images[0].url) if images else None,
            "is_owner": generation.user_id == request.user.pk,
        },
    )


def explore(request: HttpRequest) -> HttpResponse:
    try:
        page = generation_page_public(cursor=request.GET.get("cursor"), limit=EXPLORE_PAGE_SIZE)
    except InvalidRequest:
        raise Http404("No such page.")
    return render(request, "gallery/explore.html", {"page": page})
