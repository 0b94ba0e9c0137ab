"""The answers the interactions endpoint gives Discord (interaction response types)."""

from typing import Any

PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
AUTOCOMPLETE_RESULT = 8
# Only the person who used the command sees an ephemeral message.
EPHEMERAL = 1 << 6
# Prompts are people's text: nobody is ever pinged by what they wrote.
NO_MENTIONS: dict[str, Any] = {"parse": []}


def pong() -> dict[str, Any]:
    return {"type": PONG}


def deferred() -> dict[str, Any]:
    """ "Thinking…" in the channel; the notifier edits the real message in later."""
    return {"type": DEFERRED_CHANNEL_MESSAGE}


def private(content: str) -> dict[str, Any]:
    return {
        "type": CHANNEL_MESSAGE,
        "data": {"content": content, "flags": EPHEMERAL, "allowed_mentions": NO_MENTIONS},
    }


def suggestions(choices: list[dict[str, str]]) -> dict[str, Any]:
    return {"type": AUTOCOMPLETE_RESULT, "data": {"choices": choices}}
