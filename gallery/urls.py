from django.urls import path

from gallery import bulk, landing, views

urlpatterns = [
    # Signed out: what the site is; signed in: the generate page.
    path("", landing.home, name="home"),
    path("gallery/", views.gallery, name="gallery"),
    path("gallery/selected/", bulk.gallery_bulk, name="gallery-bulk"),
    path(
        "gallery/<uuid:generation_id>/favourite/",
        bulk.gallery_favourite,
        name="gallery-favourite",
    ),
    path("gallery/<uuid:generation_id>/", views.generation_detail, name="gallery-detail"),
    path(
        "gallery/<uuid:generation_id>/delete/", views.generation_delete_page, name="gallery-delete"
    ),
    path(
        "gallery/<uuid:generation_id>/cancel/", views.generation_cancel_page, name="gallery-cancel"
    ),
    path(
        "gallery/<uuid:generation_id>/visibility/",
        views.generation_visibility,
        name="gallery-visibility",
    ),
    path("s/<slug:share_token>/", views.share, name="gallery-share"),
    path("explore/", views.explore, name="explore"),
]
