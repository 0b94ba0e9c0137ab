"""The site's URLs plus a page and an API endpoint that fail, to see the 500 a user would get."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from rollerai.urls import urlpatterns as site_urlpatterns


def page_that_fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a page")


urlpatterns = [
    path("broken-page/", page_that_fails),
    path("api/v1/broken/", page_that_fails),
    *site_urlpatterns,
]

handler404 = "rollerai.api.page_not_found"
handler500 = "rollerai.api.server_error"
