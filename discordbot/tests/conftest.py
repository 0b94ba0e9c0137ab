"""The bot's test kit: a key pair the tests sign interactions with (its public half is the
site's DISCORD_PUBLIC_KEY), Discord's API as a loopback stand-in, and interactions as Discord
sends them."""

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from nacl.signing import SigningKey
from pytest_django.fixtures import Settings

from testing.discord_api import DiscordStandIn

APPLICATION_ID = "900000000000000001"
CHANNEL_ID = "900000000000000002"
_ids = itertools.count(1)


@pytest.fixture
def signing_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def discord_api() -> Iterator[DiscordStandIn]:
    stand_in = DiscordStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def discord_settings(
    settings: Settings, signing_key: SigningKey, discord_api: DiscordStandIn
) -> Settings:
    settings.DISCORD_APPLICATION_ID = APPLICATION_ID
    settings.DISCORD_PUBLIC_KEY = signing_key.verify_key.encode().hex()
    settings.DISCORD_API_BASE = discord_api.url
    settings.DISCORD_BOT_TOKEN = ""
    settings.DISCORD_EDIT_SECONDS = 0.5
    settings.DISCORD_RETRY_SECONDS = 0.2
    settings.SITE_URL = "https://images.example.com"
    return settings


def signed_post(
    client: Client,
    key: SigningKey,
    document: dict[str, Any],
    *,
    signed_at: float | None = None,
    body: bytes | None = None,
) -> Any:
    """POST an interaction signed as Discord signs it (timestamp + raw body); `body`, if
    given, is sent instead of the signed document (a tampered request)."""
    raw = json.dumps(document).encode()
    timestamp = str(int(time.time() if signed_at is None else signed_at))
    signature = key.sign(timestamp.encode() + raw).signature.hex()
    return client.post(
        "/discord/interactions/",
        data=raw if body is None else body,
        content_type="application/json",
        headers={"X-Signature-Ed25519": signature, "X-Signature-Timestamp": timestamp},
    )


def _member(user_id: str, username: str) -> dict[str, Any]:
    return {"user": {"id": user_id, "username": username, "global_name": username.title()}}


def command(
    name: str, *, user_id: str = "700000000000000001", username: str = "carol", **options: Any
) -> dict[str, Any]:
    """A slash command used in a server channel."""
    number = next(_ids)
    return {
        "id": f"80000000000000{number:04d}",
        "application_id": APPLICATION_ID,
        "type": 2,
        "token": f"interaction-token-{number}",
        "channel_id": CHANNEL_ID,
        "guild_id": "900000000000000003",
        "member": _member(user_id, username),
        "data": {
            "id": "1",
            "name": name,
            "type": 1,
            "options": [{"name": key, "value": value} for key, value in options.items()],
        },
    }


def button(
    custom_id: str, *, user_id: str = "700000000000000002", username: str = "dave"
) -> dict[str, Any]:
    """A button on one of the bot's messages, pressed."""
    number = next(_ids)
    return {
        "id": f"81000000000000{number:04d}",
        "application_id": APPLICATION_ID,
        "type": 3,
        "token": f"button-token-{number}",
        "channel_id": CHANNEL_ID,
        "member": _member(user_id, username),
        "data": {"custom_id": custom_id, "component_type": 2},
    }


def answer_data(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    document: dict[str, Any] = response.json()
    return document
