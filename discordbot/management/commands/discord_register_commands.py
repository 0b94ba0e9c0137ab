"""`manage.py discord_register_commands [--guild ID]`: tell Discord about /imagine, /credits and
/link, replacing whatever commands the application had (a bulk overwrite, so running it again
is harmless). With --guild they appear at once in that one server, handy while setting up;
global commands reach every server the bot is in."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from discordbot.client import DiscordClient, DiscordError
from discordbot.commands import COMMANDS


class Command(BaseCommand):
    help = "Register the bot's slash commands with Discord (replacing the old ones)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--guild", metavar="ID", help="Only in this server (its id).")

    def handle(self, *args: Any, **options: Any) -> None:
        missing = [
            name
            for name in ("DISCORD_APPLICATION_ID", "DISCORD_BOT_TOKEN")
            if not getattr(settings, name)
        ]
        if missing:
            raise CommandError(f"Set {' and '.join(missing)} first (see the README).")
        guild = options["guild"]
        try:
            registered = DiscordClient().commands_overwrite(COMMANDS, guild_id=guild)
        except DiscordError as error:
            raise CommandError(f"Discord did not take the commands: {error}") from error
        names = ", ".join("/" + command.get("name", "?") for command in registered or [])
        where = f"in server {guild}" if guild else "globally (may take a while to show)"
        self.stdout.write(f"Registered {names} {where}.")
