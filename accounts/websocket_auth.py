"""Who is on the other end of a websocket: a browser with a session cookie (origin-checked), or
an API client that sends its key as a subprotocol: `Sec-WebSocket-Protocol: bearer, <api key>`."""

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser

from accounts.services import api_key_authenticate

BEARER_SUBPROTOCOL = "bearer"


class WebsocketAuth:
    """Cookie sessions need the origin check, because browsers send cookies to any site's
    sockets; a key is never sent implicitly, so key-authenticated clients (which usually send no
    Origin at all) skip it."""

    def __init__(self, inner: Any) -> None:
        self.by_key = inner
        self.by_session = AllowedHostsOriginValidator(AuthMiddlewareStack(inner))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        protocols = scope.get("subprotocols") or []
        if BEARER_SUBPROTOCOL not in protocols:
            return await self.by_session(scope, receive, send)
        keys = [protocol for protocol in protocols if protocol != BEARER_SUBPROTOCOL]
        user = await database_sync_to_async(api_key_authenticate)(keys[0]) if keys else None
        scope = {**scope, "user": user or AnonymousUser(), "subprotocol": BEARER_SUBPROTOCOL}
        return await self.by_key(scope, receive, send)
