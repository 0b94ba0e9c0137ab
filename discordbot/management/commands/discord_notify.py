"""`manage.py discord_notify`: the Procfile's `discord` process, which keeps the bot's messages
up to date with their generations. SIGTERM or SIGINT stops it after the round it is in; the
messages' state is in the database, so the next one carries on where it stopped."""

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from discordbot.notifier import Notifier


class Command(BaseCommand):
    help = "Keep Discord messages up to date with their generations' progress and results."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--round-seconds",
            type=float,
            default=0.5,
            help="How often pending messages are looked at (default 0.5).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if not settings.DISCORD_APPLICATION_ID:
            # Still a process of the site, so that setting the variables and restarting is
            # all it takes to switch the bot on.
            self.stdout.write(
                "Discord is not configured (DISCORD_APPLICATION_ID): nothing to send."
            )
            stopping.wait()
            return
        self.stdout.write("Discord notifier started")
        Notifier().run(stopping, round_seconds=options["round_seconds"])
        self.stdout.write("Discord notifier stopped")
