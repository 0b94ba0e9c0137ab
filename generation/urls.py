from django.urls import path

from generation import views

urlpatterns = [
    # GenerationImage.url and .thumbnail_url point here.
    path(
        "images/<uuid:generation_id>/<int:index>.png",
        views.image_file,
        {"extension": "png"},
        name="generation-image",
    ),
    # generation.image_links: for whoever holds the link, until it expires.
    path("images/link/<str:token>.png", views.image_link_file, name="generation-image-link"),
    # Generation.init_image, for its owner only.
    path(
        "images/<uuid:generation_id>/init.png", views.init_image_file, name="generation-init-image"
    ),
    path(
        "images/<uuid:generation_id>/<int:index>.webp",
        views.image_file,
        {"extension": "webp"},
        name="generation-thumbnail",
    ),
]
