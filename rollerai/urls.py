from django.contrib import admin
from django.urls import include, path, re_path

from accounts import api as accounts_api
from accounts.api_auth import ApiKeyAuth, SessionAuth
from generation import api as generation_api
from generation import staff
from generation.metrics import metrics
from generation.rq_admin import rq_admin_urlpatterns
from rollerai.api import JsonApi, endpoint_missing
from rollerai.health import healthz

# The JSON API, assembled here from the apps' routers: rollerai itself imports no app.
api = JsonApi(
    title="RollerAI API",
    version="1",
    description=(
        "Make images from text prompts. Authenticate with 'Authorization: Bearer <api key>' "
        "(keys are made on /accounts/) or a browser session (writes then need the CSRF "
        "token). Follow progress on the websocket /ws/generations/, sending the key as the "
        "subprotocols 'bearer, <key>'."
    ),
    urls_namespace="api",
    auth=[ApiKeyAuth(), SessionAuth()],
)
api.add_router("", accounts_api.router)
api.add_router("", generation_api.router)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("", include("generation.urls")),
    path("", include("gallery.urls")),
    path("accounts/", include("accounts.urls")),
    path("billing/", include("billing.urls")),
    path("discord/", include("discordbot.urls")),
    # OpenAI's Images API (/v1/) and AUTOMATIC1111's (/sdapi/v1/), for the tools made for them.
    path("", include("compat.urls")),
    path("api/v1/", api.urls),
    # Everything else under /api/ is a JSON 404, with DEBUG on too.
    re_path(r"^api/", endpoint_missing, name="api-missing"),
    path("admin/rq/", include((rq_admin_urlpatterns(), "django_rq"))),
    path("admin/workers/", staff.workers_page, name="staff-workers"),
    path("admin/", admin.site.urls),
]

handler404 = "rollerai.api.page_not_found"
handler500 = "rollerai.api.server_error"
