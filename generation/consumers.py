"""The websocket that streams a signed-in user's generation events to their browser."""

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from rollerai.live import user_group

# Close code for "not signed in" (4000-4999 are free for applications).
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
        # API clients that sent their key as a subprotocol expect it echoed back.
        await self.accept(subprotocol=self.scope.get("subprotocol"))

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The socket only pushes; clients act through the HTTP API.
        pass

    async def generation_update(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

    async def balance_update(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
