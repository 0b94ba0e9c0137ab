"""What a Discord message shows of its generation at each moment: its place in line, its
progress, its result (the PNGs, an embed and buttons), or how it ended. Built here, sent by
the notifier."""

from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage
from django.urls import reverse

from discordbot.client import Attachment
from discordbot.models import DiscordMessage
from discordbot.replies import NO_MENTIONS
from generation.models import Generation
from generation.standing import Standing

Status = Generation.Status
PRIMARY, LINK = 1, 5
ACTION_ROW, BUTTON = 1, 2
# Discord's limits on an embed's title and a message's content.
TITLE_LENGTH, CONTENT_LENGTH = 256, 2000
PROMPT_SHOWN = 300


@dataclass(frozen=True)
class View:
    # A short key of what it shows: the message is edited only when this changes.
    key: str
    payload: dict[str, Any]
    files: tuple[Attachment, ...] = ()
    # The last thing this message shows, and what that makes of it.
    outcome: str | None = None
    # Sent as a new message in the channel, as the bot, not as an edit of the reply.
    as_channel_post: bool = False


def page_url(message: DiscordMessage) -> str:
    """The result's page for anyone in the channel, not the owner's gallery page: that one
    needs signing in, which others (and a bot-made account, with no password) cannot do."""
    return message.site_url + reverse("discord-result", args=[message.link_token])


def waiting_view(generation: Generation, standing: Standing | None) -> View:
    """Queued: where it stands in line. Running: which step sampling is at."""
    if generation.status == Status.RUNNING:
        images = f"{generation.count} images" if generation.count > 1 else "the image"
        line = f"Making {images}: step {generation.progress_step} of {generation.steps}"
    else:
        line = _place_in_line(standing)
    return View(key=line[:100], payload=_text(generation, line))


def _place_in_line(standing: Standing | None) -> str:
    if standing is None:
        return "Waiting in line"
    place = f"#{standing.position} in line"
    if standing.waiting_for_worker:
        if standing.gpu_starting_seconds is not None:
            return f"{place}: starting a GPU, about {_duration(standing.gpu_starting_seconds)}"
        return f"{place}: waiting for a GPU"
    if standing.eta_seconds is not None:
        return f"{place}, about {_duration(standing.eta_seconds)}"
    return place


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{max(seconds, 1)} s"
    return f"{round(seconds / 60)} min"


def result_view(message: DiscordMessage, *, as_channel_post: bool = False) -> View:
    """Succeeded: the PNGs, an embed that shows them with the settings, and the buttons."""
    generation = message.generation
    images = list(generation.images.order_by("index"))
    files = tuple(
        Attachment(f"rollerai-{generation.seed + image.index}.png", _read(image.image.name))
        for image in images
    )
    url = page_url(message)
    # Embeds that share a url show as one, with their images side by side.
    embeds: list[dict[str, Any]] = [
        {"url": url, "image": {"url": f"attachment://{file.filename}"}} for file in files
    ]
    embeds[0].update(
        title=generation.prompt[:TITLE_LENGTH],
        fields=_settings_fields(generation),
        footer={"text": "RollerAI"},
    )
    payload = {
        "content": f"<@{message.discord_user_id}>" if as_channel_post else "",
        "embeds": embeds,
        "components": _button_rows(generation, url),
        "allowed_mentions": _mentions(message, as_channel_post),
    }
    return View(
        key="result",
        payload=payload,
        files=files,
        outcome=(
            DiscordMessage.Outcome.POSTED if as_channel_post else DiscordMessage.Outcome.DELIVERED
        ),
        as_channel_post=as_channel_post,
    )


def _settings_fields(generation: Generation) -> list[dict[str, Any]]:
    seed = str(generation.seed)
    if generation.count > 1:
        seed += f"-{generation.seed + generation.count - 1}"
    settings = {
        "Seed": seed,
        "Model": generation.model.name,
        "Size": f"{generation.width}x{generation.height}",
        "Steps": str(generation.steps),
    }
    return [{"name": name, "value": value, "inline": True} for name, value in settings.items()]


def _button_rows(generation: Generation, url: str) -> list[dict[str, Any]]:
    """Reroll and Open, then a V<n> button for variations of each image."""
    first = [
        _button("Reroll", f"reroll:{generation.id}"),
        {"type": BUTTON, "style": LINK, "label": "Open", "url": url},
    ]
    variations = [
        _button(f"V{index + 1}", f"variations:{generation.id}:{index}")
        for index in range(generation.count)
    ]
    return [{"type": ACTION_ROW, "components": row} for row in (first, variations)]


def _button(label: str, custom_id: str) -> dict[str, Any]:
    return {"type": BUTTON, "style": PRIMARY, "label": label, "custom_id": custom_id}


def ended_view(message: DiscordMessage, *, as_channel_post: bool = False) -> View:
    """Failed or cancelled, with the refund."""
    generation = message.generation
    credits = generation.credits_charged
    refund = f"Your {credits} credit{'' if credits == 1 else 's'} went back to your balance."
    if generation.status == Status.CANCELED:
        line = f"Cancelled. {refund}"
    else:
        line = f"This did not work: {generation.error or 'the image could not be made.'} {refund}"
    payload = _text(generation, line)
    if as_channel_post:
        payload["content"] = f"<@{message.discord_user_id}> " + payload["content"]
        payload["allowed_mentions"] = _mentions(message, True)
    return View(
        key="ended",
        payload=payload,
        outcome=(
            DiscordMessage.Outcome.POSTED if as_channel_post else DiscordMessage.Outcome.DELIVERED
        ),
        as_channel_post=as_channel_post,
    )


def handover_view(message: DiscordMessage, *, can_post: bool) -> View:
    """Before the reply's token runs out on a generation still being made: where its result
    will be (in the channel, or on the site)."""
    if can_post:
        line = (
            "Still working on it. Discord lets me edit this message for only 15 minutes, so "
            "the result will be a new message in this channel."
        )
        outcome = None
    else:
        line = (
            "Still working on it. Discord lets me edit this message for only 15 minutes: "
            f"find the result at {page_url(message)}"
        )
        outcome = DiscordMessage.Outcome.POINTED
    return View(key="handover", payload=_text(message.generation, line), outcome=outcome)


def _text(generation: Generation, line: str) -> dict[str, Any]:
    prompt = generation.prompt
    if len(prompt) > PROMPT_SHOWN:
        prompt = prompt[:PROMPT_SHOWN] + "…"
    content = f"**{_plain(prompt)}**\n{line}"[:CONTENT_LENGTH]
    return {"content": content, "embeds": [], "components": [], "allowed_mentions": NO_MENTIONS}


def _plain(text: str) -> str:
    """A prompt shown as written: Discord's markdown characters are escaped."""
    for mark in "\\*_~`|>#[]":
        text = text.replace(mark, "\\" + mark)
    return text


def _mentions(message: DiscordMessage, mention_owner: bool) -> dict[str, Any]:
    return {"parse": [], "users": [message.discord_user_id]} if mention_owner else NO_MENTIONS


def _read(name: str | None) -> bytes:
    with default_storage.open(name or "", "rb") as file:
        return bytes(file.read())
