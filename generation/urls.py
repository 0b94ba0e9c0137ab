from django.urls import path

from generation import api, views

urlpatterns = [
    path("", views.home, name="home"),
    # GenerationImage.url and .thumbnail_url point here.
    path(
        "images/<uuid:generation_id>/<int:index>.png",
        views.image_file,
        {"extension": "png"},
        name="generation-image",
    ),
    path(
        "images/<uuid:generation_id>/<int:index>.webp",
        views.image_file,
        {"extension": "webp"},
        name="generation-thumbnail",
    ),
]

api_urlpatterns = [
    path("models", api.models, name="api-models"),
    path("generations", api.generations, name="api-generations"),
    path("generations/<uuid:generation_id>", api.generation, name="api-generation"),
    path(
        "generations/<uuid:generation_id>/cancel",
        api.generation_cancel_endpoint,
        name="api-generation-cancel",
    ),
]
