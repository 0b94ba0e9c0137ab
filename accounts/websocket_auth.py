"""Who is on the other end of a websocket: a browser with a session cookie (origin-checked), or
an API client that sends its key as a subprotocol: `Sec-WebSocket-Protocol: bearer, <api key>`.
Also whether that credential still holds, for open sockets told that their user's access changed."""

from importlib import import_module
from typing import Any

from channels.auth import AuthMiddlewareStack, get_user
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from accounts.selectors import api_key_is_active
from accounts.services import api_key_use

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
        api_key = await database_sync_to_async(api_key_use)(key=keys[0]) if keys else None
        scope = {
            **scope,
            "user": api_key.user if api_key is not None else AnonymousUser(),
            # Which key it was, so the socket can tell when that key is revoked.
            "api_key_id": api_key.id if api_key is not None else None,
            "subprotocol": BEARER_SUBPROTOCOL,
        }
        return await self.by_key(scope, receive, send)


async def socket_access_holds(scope: dict[str, Any]) -> bool:
    """Whether the socket's own credential still lets its user in: the same API key still
    active, or the same session still signed in as them. Checking the session afresh also
    applies Django's password check: a session from before a password change no longer holds."""
    user = scope["user"]
    if scope.get("api_key_id") is not None:
        return await database_sync_to_async(api_key_is_active)(
            api_key_id=scope["api_key_id"], user_id=user.pk
        )
    session_key = scope["session"].session_key
    if session_key is None:
        return False
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    session_user = await get_user({"session": session})
    return bool(session_user.is_authenticated and session_user.pk == user.pk)
