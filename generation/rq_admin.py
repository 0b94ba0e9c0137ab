"""/admin/rq/, django-rq's pages, for every model's queues and the workers serving them.

django-rq lists the queues named in settings.RQ_QUEUES, which holds only `default`: a model's
queues are named after it (generation.queues) and models come and go in the database. django-rq
reads the setting afresh on every call, so each of its pages gets the current list first.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

from generation.models import DiffusionModel
from generation.queues import queue_name

View = Callable[..., HttpResponse]


def rq_queues_setting() -> dict[str, dict[str, Any]]:
    """`default` (which django-rq's own helpers need) and both queues of every model, on the
    same Redis; a disabled model's are listed too, as jobs may still wait in them."""
    connection = settings.RQ_QUEUES["default"]
    names = [
        queue_name(model, high_priority=high_priority)
        for model in DiffusionModel.objects.order_by("slug")
        for high_priority in (True, False)
    ]
    return {"default": connection, **{name: dict(connection) for name in names}}


def with_model_queues(view: View) -> View:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Replaced whole, never changed in place: a request on another thread reads either
        # the old list or the new one.
        settings.RQ_QUEUES = rq_queues_setting()
        return view(request, *args, **kwargs)

    return wrapped


def rq_admin_urlpatterns() -> list[URLPattern]:
    """django-rq's URLs (its pages check for staff themselves), each seeing every queue."""
    api = [
        URLPattern(url.pattern, with_model_queues(url.callback), url.default_args, url.name)
        for url in get_api_urlpatterns()
    ]
    return api + get_admin_urlpatterns(view_wrapper=with_model_queues)
