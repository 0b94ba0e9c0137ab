"""The websocket that streams a signed-in user's generation events to their browser."""

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.websocket_auth import socket_access_holds
from rollerai.live import user_group

# Close code for "not signed in", also sent when an open socket's key is revoked or its session
# ends (4000-4999 are free for applications; README documents it).
CLOSE_NOT_AUTHENTICATED = 4401


class GenerationConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Access taken away between authenticating and joining the group was announced before
        # this socket could hear it.
        if not await socket_access_holds(self.scope):
            await self._close_for_lost_access()
            return
        # API clients that sent their key as a subprotocol expect it echoed back.
        await self.accept(subprotocol=self.scope.get("subprotocol"))

    async def disconnect(self, code: int) -> None:
        await self._leave_group()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The socket only pushes; clients act through the HTTP API.
        pass

    async def generation_update(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

    async def balance_update(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

    async def access_changed(self, message: dict[str, Any]) -> None:
        """One of the user's keys or sessions lost access; close if it was this socket's."""
        if not await socket_access_holds(self.scope):
            await self._close_for_lost_access()

    async def _close_for_lost_access(self) -> None:
        # Leave first: not one more event may reach a socket whose access is gone.
        await self._leave_group()
        await self.close(code=CLOSE_NOT_AUTHENTICATED)

    async def _leave_group(self) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None
