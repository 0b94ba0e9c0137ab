"""Answering what Discord sends: a PING, a slash command, a button press, or a request for
autocomplete suggestions. Every answer is quick (the work itself is queued), and every refusal
is a message only the asker sees, never an error Discord would show as "did not respond"."""

import logging
from typing import Any

from discordbot import links, replies, services
from discordbot.commands import model_suggestions, options_of
from discordbot.services import Interaction
from rollerai.exceptions import DomainError, InsufficientCredits

log = logging.getLogger(__name__)

PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE = 1, 2, 3, 4
REROLL, VARIATIONS = "reroll", "variations"


def interaction_answer(document: dict[str, Any], *, site_url: str) -> dict[str, Any]:
    kind = document.get("type")
    if kind == PING:
        return replies.pong()
    data = document.get("data")
    if not isinstance(data, dict):
        data = {}
    try:
        if kind == AUTOCOMPLETE:
            return replies.suggestions(model_suggestions(_focused_text(data)))
        interaction = Interaction.of(document, site_url=site_url)
        if kind == APPLICATION_COMMAND:
            return _command(interaction, data)
        if kind == MESSAGE_COMPONENT:
            return _button(interaction, str(data.get("custom_id") or ""))
    except InsufficientCredits as error:
        return replies.private(
            f"{error.message} Buy credits at {site_url}/billing/ (new here? Sign up there and "
            "type /link with the code from your account page to use that account from Discord)."
        )
    except DomainError as error:
        return replies.private(error.message)
    return replies.private("This bot does not know that request.")


def _command(interaction: Interaction, data: dict[str, Any]) -> dict[str, Any]:
    name, options = data.get("name"), options_of(data)
    if name == "imagine":
        services.imagine(interaction, options)
        return replies.deferred()
    if name == "credits":
        return replies.private(services.balance_text(interaction))
    if name == "link":
        user = links.link(interaction, str(options.get("code") or ""))
        return replies.private(
            f"Linked: from now on you use the account {user.get_username()} from Discord, with "
            "its credits and gallery."
        )
    return replies.private(f"There is no command /{name} here.")


def _button(interaction: Interaction, custom_id: str) -> dict[str, Any]:
    action, _, target = custom_id.partition(":")
    if action == REROLL:
        services.reroll(interaction, target)
        return replies.deferred()
    generation_id, _, index = target.partition(":")
    if action == VARIATIONS and index.isdigit():
        services.variations(interaction, generation_id, int(index))
        return replies.deferred()
    return replies.private("That button no longer does anything.")


def _focused_text(data: dict[str, Any]) -> str:
    for option in data.get("options") or []:
        if isinstance(option, dict) and option.get("focused"):
            return str(option.get("value") or "")
    return ""
