"""Discord's HTTP API, for the few calls the bot makes: editing the reply to an interaction (its
token is good for 15 minutes), posting in a channel with the bot token, and registering the
slash commands. Failures come back as three kinds, because each is handled differently: wait
and retry (rate limited), retry with backoff (Discord unreachable or failing), give up
(refused)."""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

TIMEOUT_SECONDS = 10
WEBHOOK_TOKEN = re.compile(r"(/webhooks/[^/]+/)[^/]+")


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    content_type: str = "image/png"


class DiscordError(Exception):
    pass


class DiscordRateLimited(DiscordError):
    """429: try again after `retry_after` seconds (for every request when `is_global`)."""

    def __init__(self, message: str, *, retry_after: float, is_global: bool) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.is_global = is_global


class DiscordUnreachable(DiscordError):
    """A network error or a 5xx: worth trying again later."""


class DiscordRefused(DiscordError):
    """A 4xx other than 429: the same request will never work (an expired token, a deleted
    message, a missing permission)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class DiscordClient:
    def __init__(
        self,
        *,
        api_base: str | None = None,
        application_id: str | None = None,
        bot_token: str | None = None,
    ) -> None:
        self.api_base = (api_base or settings.DISCORD_API_BASE).rstrip("/")
        self.application_id = application_id or settings.DISCORD_APPLICATION_ID
        self.bot_token = settings.DISCORD_BOT_TOKEN if bot_token is None else bot_token
        self._session = requests.Session()

    def original_edit(
        self, token: str, payload: dict[str, Any], files: Sequence[Attachment] = ()
    ) -> dict[str, Any]:
        """Edit the reply to an interaction (the message a deferred reply made)."""
        path = f"/webhooks/{self.application_id}/{token}/messages/@original"
        return self._send("PATCH", path, payload, files, bot=False)

    def channel_post(
        self, channel_id: str, payload: dict[str, Any], files: Sequence[Attachment] = ()
    ) -> dict[str, Any]:
        """A new message in a channel, as the bot (needs the bot token)."""
        return self._send("POST", f"/channels/{channel_id}/messages", payload, files, bot=True)

    def commands_overwrite(
        self, commands: list[dict[str, Any]], *, guild_id: str | None = None
    ) -> Any:
        """Replace the application's commands (in one server with `guild_id`, where changes
        show at once; globally otherwise)."""
        path = f"/applications/{self.application_id}"
        path += f"/guilds/{guild_id}/commands" if guild_id else "/commands"
        return self._send("PUT", path, commands, (), bot=True)

    def _send(
        self, method: str, path: str, payload: Any, files: Sequence[Attachment], *, bot: bool
    ) -> Any:
        headers = {"User-Agent": "RollerAI (https://github.com/rollerai, 1)"}
        if bot:
            headers["Authorization"] = f"Bot {self.bot_token}"
        try:
            response = self._session.request(
                method,
                self.api_base + path,
                timeout=TIMEOUT_SECONDS,
                headers=headers,
                **_body(payload, files),
            )
        except requests.RequestException as error:
            raise DiscordUnreachable(f"{method} {path}: {error}") from error
        return _answer(method, path, response)


def _body(payload: Any, files: Sequence[Attachment]) -> dict[str, Any]:
    """JSON, or with files multipart: the message as `payload_json` and each file as
    `files[n]`, listed in the message's `attachments` by the same n."""
    if not files:
        return {"json": payload}
    payload = {
        **payload,
        "attachments": [{"id": n, "filename": file.filename} for n, file in enumerate(files)],
    }
    parts: list[tuple[str, tuple[str | None, Any, str]]] = [
        ("payload_json", (None, json.dumps(payload), "application/json"))
    ]
    parts += [
        (f"files[{n}]", (file.filename, file.data, file.content_type))
        for n, file in enumerate(files)
    ]
    return {"files": parts}


def _answer(method: str, path: str, response: requests.Response) -> Any:
    # An interaction's token is part of its webhook path, and acts as a password: never logged.
    where = method + " " + WEBHOOK_TOKEN.sub(r"\1<token>", path)
    if response.status_code == 429:
        document = _json(response)
        retry_after = float(document.get("retry_after") or response.headers.get("Retry-After") or 1)
        raise DiscordRateLimited(
            f"{where}: rate limited for {retry_after} s",
            retry_after=retry_after,
            is_global=bool(document.get("global")),
        )
    if response.status_code >= 500:
        raise DiscordUnreachable(f"{where}: Discord answered {response.status_code}")
    if response.status_code >= 400:
        message = _json(response).get("message") or response.reason
        raise DiscordRefused(
            f"{where}: Discord refused ({response.status_code}): {message}",
            status=response.status_code,
        )
    return _json(response) if response.content else {}


def _json(response: requests.Response) -> Any:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict | list) else {}
