"""`manage.py discord_register_commands` replaces the application's commands in one call."""

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings

from discordbot.commands import COMMANDS
from discordbot.tests.conftest import APPLICATION_ID
from testing.discord_api import DiscordStandIn


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ([], f"/api/v10/applications/{APPLICATION_ID}/commands"),
        (["--guild", "42"], f"/api/v10/applications/{APPLICATION_ID}/guilds/42/commands"),
    ],
)
def test_the_commands_are_registered_as_one_bulk_overwrite(
    discord_settings: Settings,
    discord_api: DiscordStandIn,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    path: str,
) -> None:
    discord_settings.DISCORD_BOT_TOKEN = "bot-token"

    call_command("discord_register_commands", *arguments)

    [request] = discord_api.requests
    assert (request.method, request.path) == ("PUT", path)
    assert request.headers["Authorization"] == "Bot bot-token"
    assert request.payload == COMMANDS
    assert [option["name"] for option in request.payload[0]["options"]] == [
        "prompt",
        "negative",
        "model",
        "aspect",
        "steps",
        "seed",
        "count",
    ]
    assert "Registered /imagine, /credits, /link" in capsys.readouterr().out


def test_without_a_bot_token_it_says_what_to_set(discord_settings: Settings) -> None:
    with pytest.raises(CommandError, match="Set DISCORD_BOT_TOKEN first"):
        call_command("discord_register_commands")


def test_a_refusal_by_discord_is_reported(
    discord_settings: Settings, discord_api: DiscordStandIn
) -> None:
    discord_settings.DISCORD_BOT_TOKEN = "wrong"
    discord_api.answer(401, {"message": "401: Unauthorized", "code": 0})

    with pytest.raises(CommandError, match="Discord refused \\(401\\): 401: Unauthorized"):
        call_command("discord_register_commands")
