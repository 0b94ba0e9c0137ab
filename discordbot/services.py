"""What the bot's commands and buttons do, over the same services as the website: a Discord
user is tied to one site account (made for them on first use), pays with its credits, and
their generations are that account's, marked as from Discord."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic
from django.contrib.auth.models import User

from accounts.discord_links import discord_account_for
from billing.selectors import balance_for
from discordbot.commands import imagine_request
from discordbot.models import DiscordMessage
from generation.models import Generation
from generation.schemas import GenerationRequest, VariationsRequest, request_fields
from generation.selectors import models_enabled
from generation.services import generation_submit, generation_variations_submit
from rollerai.exceptions import InvalidRequest, NotFound

DISCORD = Generation.Origin.DISCORD


@dataclass(frozen=True)
class Interaction:
    """Who asked, where, and the token that lets the bot answer them for 15 minutes."""

    id: str
    token: str
    discord_user_id: str
    discord_username: str
    channel_id: str
    site_url: str

    @classmethod
    def of(cls, document: dict[str, Any], *, site_url: str) -> "Interaction":
        # In a server the person is the member's user; in a direct message, the user.
        person = (document.get("member") or {}).get("user") or document.get("user") or {}
        channel = document.get("channel_id") or (document.get("channel") or {}).get("id") or ""
        try:
            return cls(
                id=str(document["id"]),
                token=str(document["token"]),
                discord_user_id=str(person["id"]),
                discord_username=str(person.get("global_name") or person.get("username") or ""),
                channel_id=str(channel),
                site_url=site_url,
            )
        except KeyError as missing:
            raise InvalidRequest(f"The interaction has no {missing.args[0]}.") from None

    def account(self) -> User:
        user, _ = discord_account_for(
            discord_user_id=self.discord_user_id, discord_username=self.discord_username
        )
        return user


def imagine(interaction: Interaction, options: dict[str, Any]) -> Generation:
    """/imagine: charged to the asker's account and put in line like a submit on the site."""
    slug = options.get("model")
    model = models_enabled().filter(slug=slug).first() if slug else models_enabled().first()
    data = _request(imagine_request(options, model))
    return _submit(
        interaction,
        lambda account, key: generation_submit(
            user=account, data=data, idempotency_key=key, origin=DISCORD
        ),
    )


def reroll(interaction: Interaction, generation_id: str) -> Generation:
    """The Reroll button: the same request with a new seed, for whoever pressed it (they pay).
    Variations are made again from the same image, not from their prompt alone."""
    source = _posted(generation_id)
    if source.kind == Generation.Kind.VARIATIONS:
        image = source.source_image
        if image is None:
            raise NotFound("The image these were made from is gone: it was deleted on the site.")
        # Variations from Discord come from a V button, so their image was posted there too.
        again = VariationsRequest(index=image.index, count=source.count)
        return _variations(interaction, image.generation, again)
    fields = {**request_fields(source), "seed": None}
    return _submit(
        interaction,
        lambda account, key: generation_submit(
            user=account, data=_request(fields), idempotency_key=key, origin=DISCORD
        ),
    )


def variations(interaction: Interaction, generation_id: str, index: int) -> Generation:
    """A V<n> button: four new images like image n, for whoever pressed it (they pay)."""
    return _variations(interaction, _posted(generation_id), VariationsRequest(index=index))


def _variations(
    interaction: Interaction, source: Generation, data: VariationsRequest
) -> Generation:
    """New images like one of `source`'s, which the bot posted: the image is the poster's,
    shown to everyone in the channel."""
    return _submit(
        interaction,
        lambda account, key: generation_variations_submit(
            user=account,
            generation_id=source.id,
            data=data,
            idempotency_key=key,
            origin=DISCORD,
            shown_by=source.user,
        ),
    )


def _posted(generation_id: str) -> Generation:
    """A generation the bot has posted in Discord (buttons name no other)."""
    try:
        uuid.UUID(generation_id)
    except ValueError:
        raise NotFound("That button belongs to no generation.") from None
    source = (
        Generation.objects.filter(id=generation_id, discord_message__isnull=False)
        .select_related("model", "user", "source_image__generation__user")
        .first()
    )
    if source is None:
        raise NotFound("That generation is gone: it was deleted on the site.")
    return source


def balance_text(interaction: Interaction) -> str:
    credits = balance_for(interaction.account())
    return (
        f"You have {credits} credit{'' if credits == 1 else 's'}. "
        f"Buy more at {interaction.site_url}/billing/"
    )


def _request(fields: dict[str, Any]) -> GenerationRequest:
    """The API's request, checked by its own schema; its first complaint is the user's."""
    try:
        return GenerationRequest.model_validate(fields)
    except pydantic.ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "request"
        raise InvalidRequest(f"{where.replace('_', ' ').capitalize()}: {problem['msg']}") from None


def _submit(interaction: Interaction, submit: Callable[[User, str], Generation]) -> Generation:
    """Submit for the asker's account, and keep the reply up to date with what it made."""
    # Discord's interaction id as the Idempotency-Key: a delivery Discord repeats is charged once.
    generation = submit(interaction.account(), f"discord:{interaction.id}")
    DiscordMessage.objects.get_or_create(
        interaction_id=interaction.id,
        defaults={
            "generation": generation,
            "interaction_token": interaction.token,
            "channel_id": interaction.channel_id,
            "discord_user_id": interaction.discord_user_id,
            "site_url": interaction.site_url,
        },
    )
    return generation
