"""The front page: the landing page for visitors who are not signed in, the generate page for
those who are."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from generation import views as generation_views
from generation.selectors import generation_page_public

LANDING_PICTURES = 8


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return generation_views.home(request)
    page = generation_page_public(cursor=None, limit=LANDING_PICTURES)
    return render(
        request,
        "gallery/landing.html",
        {"recent": page.generations, "signup_credits": settings.SIGNUP_CREDITS},
    )
