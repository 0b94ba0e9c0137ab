from django.contrib import admin
from django.urls import include, path

from accounts import api as accounts_api
from generation import staff
from generation.metrics import metrics
from generation.urls import api_urlpatterns
from rollerai.health import healthz
from rollerai.openapi import openapi_document

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("", include("generation.urls")),
    path("", include("gallery.urls")),
    path("accounts/", include("accounts.urls")),
    path("billing/", include("billing.urls")),
    path("api/v1/me", accounts_api.me, name="api-me"),
    path("api/v1/openapi.json", openapi_document, name="api-openapi"),
    path("api/v1/", include(api_urlpatterns)),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/workers/", staff.workers_page, name="staff-workers"),
    path("admin/", admin.site.urls),
]

handler404 = "rollerai.api.page_not_found"
handler500 = "rollerai.api.server_error"
