from django.urls import path

from discordbot import views

urlpatterns = [path("interactions/", views.interactions, name="discord-interactions")]
