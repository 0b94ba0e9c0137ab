"""Staff see each Discord message the bot keeps up to date, and whether its result got there."""

from django.contrib import admin
from django.http import HttpRequest

from discordbot.models import DiscordMessage


@admin.register(DiscordMessage)
class DiscordMessageAdmin(admin.ModelAdmin):
    list_display = ("generation", "discord_user_id", "outcome", "created_at", "finished_at")
    list_filter = ("outcome",)
    search_fields = ("generation__id", "discord_user_id", "generation__prompt")
    # The token lets whoever holds it edit the message: never shown.
    exclude = ("interaction_token",)
    readonly_fields = [
        field.name for field in DiscordMessage._meta.fields if field.name != "interaction_token"
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
