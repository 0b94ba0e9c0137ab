"""Keeping Discord messages up to date, outside any web request: the `discord` process (in the
Procfile) runs rounds of this. Each round looks at the messages still pending, works out what
each should show now (discordbot.messages), and edits the ones that changed: place in line and
progress at most every DISCORD_EDIT_SECONDS, the result at once.

Nothing here ever waits on Discord for long: a rate limit or a failure only sets when that
message is tried next, and one that still cannot be delivered after a few tries is logged and
left; the generation itself is done and on the site either way."""

import contextlib
import logging
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import QuerySet
from django.utils import timezone
from redis.exceptions import RedisError

from discordbot.client import DiscordClient, DiscordRateLimited, DiscordRefused, DiscordUnreachable
from discordbot.messages import View, ended_view, handover_view, result_view, waiting_view
from discordbot.models import DiscordMessage
from generation.models import Generation
from generation.standing import generation_standing
from rollerai.connections import redis_connection
from rollerai.leader import LeaderLock

log = logging.getLogger(__name__)
Outcome = DiscordMessage.Outcome

# An interaction's token allows edits for 15 minutes. Before it runs out on an unfinished
# generation the message says where the result will go; edits stop a minute before the end.
HANDOVER_AFTER = timedelta(minutes=13)
LAST_EDIT_BEFORE = timedelta(minutes=14)
# Discord makes the reply's message when it reads our deferred answer: an edit sent before
# that finds no message (404), so for a little while a 404 is worth another try.
YOUNG = timedelta(seconds=10)
FIRST_EDIT_AFTER = timedelta(seconds=0.25)
# The longest wait between tries at an update that is not the last one.
MAX_BACKOFF_SECONDS = 30.0
BATCH = 100


class Notifier:
    def __init__(self, client: DiscordClient | None = None) -> None:
        self.client = client or DiscordClient()
        self.paused_until: datetime | None = None

    def round(self, now: datetime | None = None) -> int:
        """Bring every pending message that is due up to date; how many were sent to."""
        now = now or timezone.now()
        if self.paused_until and now < self.paused_until:
            return 0  # Discord asked for a pause of all requests (a global rate limit)
        sent = 0
        for message in _due(now):
            try:
                view = self._view(message, now)
                if view is not None and self._due_to_show(message, view, now):
                    sent += self._send(message, view, now)
            except Exception:
                # One message that cannot be built (its image unreadable, say) holds up no
                # other: it is tried again later.
                log.exception("Could not update %s", message)
                _save(message, next_send_at=now + timedelta(seconds=MAX_BACKOFF_SECONDS))
        return sent

    def run(self, stopping: threading.Event, *, round_seconds: float) -> None:
        """Rounds until `stopping` is set. Of several notifiers only the one holding the lock
        sends, so no message is edited twice over."""
        lock = LeaderLock(redis_connection(), "discord:notifier", ttl_seconds=10)
        while not stopping.is_set():
            started = time.monotonic()
            try:
                close_old_connections()
                if lock.hold():
                    self.round()
            except Exception:
                # Redis or the database away, say: the next round tries again.
                log.exception("Discord notifier round failed")
            stopping.wait(max(0.0, round_seconds - (time.monotonic() - started)))
        with contextlib.suppress(RedisError):
            lock.release()

    def _view(self, message: DiscordMessage, now: datetime) -> View | None:
        generation, age = message.generation, now - message.created_at
        can_post = bool(self.client.bot_token and message.channel_id)
        if age < LAST_EDIT_BEFORE:
            if generation.is_finished:
                return _final_view(message)
            if age >= HANDOVER_AFTER:
                return handover_view(message, can_post=can_post)
            if _edited_recently(message, now):
                return None  # no edit is due yet: the place in line is not even looked up
            return waiting_view(generation, generation_standing(generation))
        if not generation.is_finished:
            _check_later(message, now)
            return None
        if can_post:
            return _final_view(message, as_channel_post=True)
        # Its token ran out before anyone could be told where the result is (the notifier
        # was not running): there is no way left to reach them.
        _give_up(message, now, "its interaction's 15 minutes ran out")
        return None

    def _due_to_show(self, message: DiscordMessage, view: View, now: datetime) -> bool:
        if view.key == message.shown:
            return False
        if not message.shown and now - message.created_at < FIRST_EDIT_AFTER:
            return False
        if view.outcome is not None:
            return True  # the last update goes at once
        return not _edited_recently(message, now)

    def _send(self, message: DiscordMessage, view: View, now: datetime) -> int:
        try:
            if view.as_channel_post:
                self.client.channel_post(message.channel_id, view.payload, view.files)
            else:
                self.client.original_edit(message.interaction_token, view.payload, view.files)
        except DiscordRateLimited as limit:
            log.info("Discord rate limit on %s: trying again in %.2f s", message, limit.retry_after)
            # From when Discord said so, not from when the round began.
            pause = timezone.now() + timedelta(seconds=limit.retry_after)
            if limit.is_global:
                self.paused_until = pause
            _save(message, next_send_at=pause)
            return 0
        except (DiscordUnreachable, DiscordRefused) as error:
            _failed(message, view, timezone.now(), error)
            return 0
        fields = {"shown": view.key, "shown_at": now, "failures": 0, "failing": ""}
        if view.outcome is not None:
            fields.update(outcome=view.outcome, finished_at=now)
        _save(message, **fields)
        return 1


def _edited_recently(message: DiscordMessage, now: datetime) -> bool:
    """Edited less than DISCORD_EDIT_SECONDS ago: progress waits (Discord rate-limits edits)."""
    return (
        message.shown_at is not None
        and (now - message.shown_at).total_seconds() < settings.DISCORD_EDIT_SECONDS
    )


def _due(now: datetime) -> QuerySet[DiscordMessage]:
    return (
        DiscordMessage.objects.filter(outcome=Outcome.PENDING, next_send_at__lte=now)
        .select_related("generation__model")
        .order_by("next_send_at")[:BATCH]
    )


def _final_view(message: DiscordMessage, *, as_channel_post: bool = False) -> View:
    if message.generation.status == Generation.Status.SUCCEEDED:
        return result_view(message, as_channel_post=as_channel_post)
    return ended_view(message, as_channel_post=as_channel_post)


def _failed(
    message: DiscordMessage, view: View, now: datetime, error: DiscordUnreachable | DiscordRefused
) -> None:
    failures = message.failures + 1 if message.failing == view.key else 1
    worth_retrying = isinstance(error, DiscordUnreachable) or (
        error.status == 404 and now - message.created_at < YOUNG
    )
    if view.outcome is not None and (
        not worth_retrying or failures >= settings.DISCORD_SEND_ATTEMPTS
    ):
        _give_up(message, now, f"{failures} tries failed, the last with: {error}")
        return
    if not worth_retrying:
        # This update can never be sent; the next one might (the message may come back).
        log.warning("Discord refused an update of %s: %s", message, error)
        _save(message, shown=view.key, shown_at=now)
        return
    wait = min(settings.DISCORD_RETRY_SECONDS * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
    log.warning("Could not update %s (%s): trying again in %g s", message, error, wait)
    _save(message, failures=failures, failing=view.key, next_send_at=now + timedelta(seconds=wait))


def _give_up(message: DiscordMessage, now: datetime, why: str) -> None:
    log.error(
        "Could not deliver generation %s to Discord (%s); it is on the site for its owner.",
        message.generation_id,
        why,
    )
    _save(message, outcome=Outcome.UNDELIVERABLE, finished_at=now)


def _check_later(message: DiscordMessage, now: datetime) -> None:
    """Unfinished, past the time for edits: nothing to do until it is done."""
    _save(message, next_send_at=now + timedelta(seconds=5))


def _save(message: DiscordMessage, **fields: object) -> None:
    for name, value in fields.items():
        setattr(message, name, value)
    DiscordMessage.objects.filter(id=message.id).update(**fields)
