"""The HTTP server for production and `make run`: gunicorn running Django's WSGI application in
several processes (websockets are served beside it by daphne: the Procfile's `live` line).

Django's ASGI handler hands every synchronous view to a thread and back, which, measured on 2
cores, served /healthz at about 120 requests a second per process against about 550 for a
gunicorn sync worker; so plain HTTP goes through WSGI, one request at a time per process, and
scales with processes (WEB_PROCESSES, default one per core).

Run it as `gunicorn -c python:rollerai.httpserver rollerai.wsgi` (the Procfile also passes the
address and process count on the command line, where they are easy to see).
"""

import os
import socket
from typing import Any

from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.sync import SyncWorker

from rollerai.refusals import refusal_response

# The longest request line and header line accepted (gunicorn's own maximum).
MAX_LINE_BYTES = 8190

bind = f"{os.environ.get('ROLLERAI_HOST', '127.0.0.1')}:{os.environ.get('ROLLERAI_PORT', '8000')}"
workers = int(os.environ.get("WEB_PROCESSES") or len(os.sched_getaffinity(0)))
worker_class = "rollerai.httpserver.RefusingSyncWorker"
limit_request_line = MAX_LINE_BYTES
limit_request_field_size = MAX_LINE_BYTES
# A request slower than this is cut off (and logged) rather than holding its process forever.
timeout = int(os.environ.get("WEB_REQUEST_TIMEOUT_SECONDS", "60"))
# Idle keep-alive connections are closed after this, so they cannot pin a sync worker for long.
keepalive = 2
accesslog = None


class _PeekingSocket:
    """A client socket that remembers the first bytes it received: gunicorn raises on an
    overlong request line before it has parsed the path, and the path says whether the refusal
    should be in the API's JSON shape."""

    # Enough for the longest method and "/api/".
    PEEK_BYTES = 16

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.first_bytes = b""

    def recv(self, size: int, *args: Any) -> bytes:
        data = self._sock.recv(size, *args)
        if len(self.first_bytes) < self.PEEK_BYTES:
            self.first_bytes += data[: self.PEEK_BYTES]
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _is_api(client: Any) -> bool:
    _method, _, target = getattr(client, "first_bytes", b"").partition(b" ")
    return target.startswith(b"/api/")


class RefusingSyncWorker(SyncWorker):
    """gunicorn's sync worker, answering an overlong URL or header in the site's own words (the
    API's JSON error shape under /api/) instead of gunicorn's HTML page."""

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        # TLS is ended by the proxy in front, never here; a wrapped socket could not be wrapped
        # in TLS again.
        super().handle(listener, client if self.cfg.is_ssl else _PeekingSocket(client), addr)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if not isinstance(exc, LimitRequestLine | LimitRequestHeaders):
            return super().handle_error(req, client, addr, exc)
        if isinstance(exc, LimitRequestLine):
            status, code = "414 URI Too Long", "uri_too_long"
            message = f"The URL is too long; send at most {MAX_LINE_BYTES} bytes."
        else:
            status, code = "431 Request Header Fields Too Large", "header_too_long"
            message = f"A request header is too long; send at most {MAX_LINE_BYTES} bytes each."
        refusal = refusal_response(status=status, code=code, message=message, api=_is_api(client))
        self.log.warning("Refused a request from %s: %s", (addr or ("",))[0], exc)
        try:
            client.sendall(refusal)
        except OSError:
            self.log.debug("Could not send the refusal.")
