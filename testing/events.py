"""Listening to a user's live events straight from the channel layer, as their pages would."""

import asyncio
import threading
import time
from typing import Any

from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers

from rollerai.live import user_group


class EventRecorder:
    """Collects every event sent to one user's group, from a thread with its own event loop."""

    def __init__(self, user_id: int) -> None:
        # (time.monotonic() on arrival, event)
        self.received: list[tuple[float, dict[str, Any]]] = []
        self._group = user_group(user_id)
        self._ready = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=asyncio.run, args=(self._listen(),), daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "could not subscribe to the channel layer"

    async def _listen(self) -> None:
        # A layer of its own: channels-redis lets only one event loop receive on a layer, and
        # the one Django shares is also the in-process consumers' in other tests.
        layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        channel = await layer.new_channel()
        await layer.group_add(self._group, channel)
        self._ready.set()
        # One receive at a time, never cancelled while waiting: cancelling channels-redis's
        # receive can drop the message it was just handed (a lost event, and a flaky test).
        pending = asyncio.ensure_future(layer.receive(channel))
        while not self._stop:
            done, _ = await asyncio.wait({pending}, timeout=0.5)
            if not done:
                continue
            self.received.append((time.monotonic(), pending.result()["event"]))
            pending = asyncio.ensure_future(layer.receive(channel))
        pending.cancel()
        await layer.close_pools()

    def timed(self, generation_id: str) -> list[tuple[float, dict[str, Any]]]:
        return [
            (at, event) for at, event in list(self.received) if event.get("id") == generation_id
        ]

    def of(self, generation_id: str) -> list[dict[str, Any]]:
        return [event for _, event in self.timed(generation_id)]

    def wait_for(self, generation_id: str, status: str, timeout: float = 60) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.of(generation_id)
            if any(event["status"] == status for event in events):
                return events
            time.sleep(0.05)
        raise AssertionError(f"no {status!r} event for {generation_id}: {self.of(generation_id)}")

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=5)
