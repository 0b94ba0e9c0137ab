"""Waiting for a generation to finish without holding a thread, for the front doors that answer
only once the images are done (the compatible APIs in compat/).

The wait listens to the owner's live events, through the same feed as their pages' websockets
(so an end the channel layer dropped is still read from the log), and reads the generation's
row again every few seconds as well, so that it never depends on an event alone."""

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from generation.events import EVENT_TYPE
from generation.models import Generation, GenerationImage
from rollerai.live import user_group
from rollerai.live_log import SocketFeed

# Seconds between reads of the row while no event has said that the generation ended.
RECHECK_SECONDS = 5.0


@dataclass(frozen=True)
class Finished:
    generation: Generation
    images: list[GenerationImage]


async def generation_wait(*, generation: Generation, timeout: float) -> Finished | None:
    """The generation once it has succeeded, failed or been cancelled, with its images; None if
    it has not within `timeout` seconds. Giving up (or being cancelled, when the client goes)
    leaves the generation running."""
    layer = get_channel_layer()
    ended = asyncio.Event()

    async def deliver(message: dict[str, Any]) -> None:
        event = message.get("event") or {}
        if (
            message["type"] == EVENT_TYPE
            and event.get("id") == str(generation.id)
            and event.get("status") in Generation.FINISHED
        ):
            ended.set()

    channel = await layer.new_channel()
    feed = SocketFeed(
        layer=layer, group=user_group(generation.user_id), channel=channel, deliver=deliver
    )
    await feed.join()
    feed.watch()
    listening = asyncio.create_task(_listen(layer, channel, feed))
    try:
        return await asyncio.wait_for(_ended(generation.id, ended), timeout)
    except TimeoutError:
        return None
    finally:
        listening.cancel()
        await feed.leave()


async def _listen(layer: Any, channel: str, feed: SocketFeed) -> None:
    while True:
        await feed.receive(await layer.receive(channel))


async def _ended(generation_id: UUID, ended: asyncio.Event) -> Finished:
    while True:
        # Cleared before reading, so an event that arrives during the read is not lost.
        ended.clear()
        finished = await _finished(generation_id)
        if finished is not None:
            return finished
        with suppress(TimeoutError):
            await asyncio.wait_for(ended.wait(), RECHECK_SECONDS)


@database_sync_to_async
def _finished(generation_id: UUID) -> Finished | None:
    generation = (
        Generation.objects.filter(id=generation_id, status__in=Generation.FINISHED)
        .select_related("model")
        .first()
    )
    if generation is None:
        return None
    # Read here, in the database's thread, for the caller on the event loop.
    return Finished(generation, list(generation.images.order_by("index")))
