from django.urls import path

from discordbot import views

urlpatterns = [
    path("interactions/", views.interactions, name="discord-interactions"),
    # The Open button of a result posted in Discord, and that page's images.
    path("r/<slug:link_token>/", views.result, name="discord-result"),
    path("r/<slug:link_token>/<int:index>.png", views.result_image, name="discord-result-image"),
]
