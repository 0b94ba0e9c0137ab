"""The websocket that streams a signed-in user's generation events to their browser."""

from collections import OrderedDict
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.events import ACCESS_CHANGED
from accounts.websocket_auth import socket_access_holds
from billing.events import EVENT_TYPE as BALANCE_UPDATE
from generation.events import EVENT_TYPE as GENERATION_UPDATE
from rollerai.live import user_group
from rollerai.live_log import SocketFeed

# Close code for "not signed in", also sent when an open socket's key is revoked or its session
# ends (4000-4999 are free for applications; README documents it).
CLOSE_NOT_AUTHENTICATED = 4401
# Generations whose latest revision a socket remembers, to drop events that arrive late.
REVISIONS_KEPT = 1000


class GenerationConsumer(AsyncJsonWebsocketConsumer):
    feed: SocketFeed | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.revisions: OrderedDict[str, int] = OrderedDict()

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        self.feed = SocketFeed(
            layer=self.channel_layer,
            group=user_group(user.pk),
            channel=self.channel_name,
            deliver=self._deliver,
        )
        await self.feed.join()
        # Access taken away between authenticating and joining the group was announced before
        # this socket could hear it.
        if not await socket_access_holds(self.scope):
            await self._close_for_lost_access()
            return
        # API clients that sent their key as a subprotocol expect it echoed back.
        await self.accept(subprotocol=self.scope.get("subprotocol"))
        self.feed.watch()

    async def disconnect(self, code: int) -> None:
        await self._leave_group()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every message, a hop to its sync
        # thread that cost more than the rest of delivering an event. Live events never touch
        # the database here; what does (checking access) goes through database_sync_to_async,
        # which closes them itself.
        if message["type"] in (GENERATION_UPDATE, BALANCE_UPDATE):
            await self._receive(message)
        else:
            await super().dispatch(message)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The socket only pushes; clients act through the HTTP API.
        pass

    # Every message goes through the feed, which fills in kept events the layer dropped and
    # hands each to _deliver once, in order.
    async def generation_update(self, message: dict[str, Any]) -> None:
        await self._receive(message)

    async def balance_update(self, message: dict[str, Any]) -> None:
        await self._receive(message)

    async def access_changed(self, message: dict[str, Any]) -> None:
        await self._receive(message)

    async def _receive(self, message: dict[str, Any]) -> None:
        if self.feed is not None:
            await self.feed.receive(message)

    async def _deliver(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == ACCESS_CHANGED:
            await self._access_check()
        elif kind == BALANCE_UPDATE or (
            kind == GENERATION_UPDATE and not self._is_stale(message["event"])
        ):
            await self.send_json(message["event"])

    async def _access_check(self) -> None:
        """One of the user's keys or sessions lost access; close if it was this socket's."""
        if not await socket_access_holds(self.scope):
            await self._close_for_lost_access()

    def _is_stale(self, event: dict[str, Any]) -> bool:
        """Events of one generation come from several processes (workers, the web tier, the
        standings publisher), so one published from an older snapshot can arrive after a newer
        one; the client never sees it."""
        generation_id, revision = event["id"], event.get("revision", 0)
        latest = self.revisions.get(generation_id, 0)
        if revision < latest:
            return True
        self.revisions[generation_id] = revision
        self.revisions.move_to_end(generation_id)
        if len(self.revisions) > REVISIONS_KEPT:
            self.revisions.popitem(last=False)
        return False

    async def _close_for_lost_access(self) -> None:
        # Leave first: not one more event may reach a socket whose access is gone.
        await self._leave_group()
        await self.close(code=CLOSE_NOT_AUTHENTICATED)

    async def _leave_group(self) -> None:
        if self.feed is not None:
            feed, self.feed = self.feed, None
            await feed.leave()
