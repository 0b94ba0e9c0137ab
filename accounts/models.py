"""What the product keeps about a person beyond Django's User: their profile (Firebase and Discord
identities), their API keys and the codes that link a Discord user. Their credits are billing's."""

from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    firebase_uid = models.CharField(max_length=128, unique=True, null=True, blank=True)
    # The Discord user whose /imagine spends this account's credits (a snowflake id); the name is
    # only for showing, as Discord users can change it.
    discord_user_id = models.CharField(max_length=32, unique=True, null=True, blank=True)
    discord_username = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class ApiKey(models.Model):
    """A key for the JSON API and the websocket. Only its hash is stored; the key itself is
    shown once, when it is made."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=16, help_text="The key's first characters, to recognise it."
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class DiscordLinkCode(models.Model):
    """A one-time code shown on the account page and typed into Discord (/link) to tie that
    Discord user to the account. Only its hash is stored, like an API key's."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="discord_link_codes"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Discord link code of {self.user} (until {self.expires_at:%Y-%m-%d %H:%M})"
