"""What the bot keeps: for each generation asked for from Discord, the message that shows it
and how far that message has been brought up to date."""

import secrets

from django.db import models
from django.utils import timezone

from generation.models import Generation


def link_token_new() -> str:
    return secrets.token_urlsafe(16)


class DiscordMessage(models.Model):
    """The reply to the /imagine (or Reroll) that asked for a generation. The notifier edits it
    with the generation's place in line and progress, then puts the result in it; the
    interaction's token that allows those edits lasts 15 minutes from `created_at`."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Being kept up to date"
        DELIVERED = "delivered", "Result in the reply"
        POSTED = "posted", "Result posted in the channel (the reply's token had run out)"
        POINTED = "pointed", "Told where to find the result on the site"
        UNDELIVERABLE = "undeliverable", "Could not be delivered"

    generation = models.OneToOneField(
        Generation, on_delete=models.CASCADE, related_name="discord_message"
    )
    # Discord's id for the interaction: the same interaction delivered twice makes one message.
    interaction_id = models.CharField(max_length=32, unique=True)
    interaction_token = models.CharField(max_length=500)
    channel_id = models.CharField(max_length=32, blank=True)
    discord_user_id = models.CharField(max_length=32)
    # Where the site's pages are, for the Open button and links.
    site_url = models.CharField(max_length=200)
    # The Open button's page shows the result to anyone with this link: everyone in the
    # channel sees the image already, and a bot-made account has no password to sign in with.
    # Unlike a share link it never puts the generation in Explore.
    link_token = models.CharField(max_length=32, unique=True, default=link_token_new)
    created_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=15, choices=Outcome.choices, default=Outcome.PENDING)
    # What the message shows now (a short key of its state), so that it is edited only when
    # that changes.
    shown = models.CharField(max_length=100, blank=True)
    shown_at = models.DateTimeField(null=True, blank=True)
    # Not sent before this: a rate limit's retry_after, or the backoff after a failure.
    next_send_at = models.DateTimeField(default=timezone.now)
    # Failed tries in a row at sending the state `failing`.
    failures = models.PositiveSmallIntegerField(default=0)
    failing = models.CharField(max_length=100, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_send_at"],
                condition=models.Q(outcome="pending"),
                name="discord_message_pending",
            )
        ]

    def __str__(self) -> str:
        return f"Discord message for {self.generation_id} ({self.outcome})"
