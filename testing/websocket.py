"""A real websocket client for tests: the `websockets` package over TCP to the daphne web server,
read on a thread of its own so synchronous tests can make HTTP requests while sockets stay open."""

import json
import queue
import threading
from typing import Any
from urllib.parse import urlsplit

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol


class LiveSocket:
    """One client connection to `/ws/generations/` on `server_url` (its live server, for a
    SiteURL), with what a browser (cookie,
    Origin) or an API client (subprotocols `bearer, <key>`) would send. A refused handshake
    leaves it closed, with `refused_status` set."""

    def __init__(
        self,
        server_url: str,
        *,
        protocols: list[str] | None = None,
        cookie: str | None = None,
        origin: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.closed = threading.Event()
        self.close_code: int | None = None
        self.refused_status: int | None = None
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self._connection: ClientConnection | None = None
        try:
            self._connection = connect(
                f"ws://{urlsplit(getattr(server_url, 'live_url', server_url)).netloc}"
                "/ws/generations/",
                subprotocols=[Subprotocol(protocol) for protocol in protocols or []],
                origin=Origin(origin) if origin else None,
                additional_headers={"Cookie": cookie} if cookie else None,
                open_timeout=timeout,
            )
        except InvalidStatus as refused:
            self.refused_status = refused.response.status_code
            self.closed.set()
            return
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._connection is not None
        try:
            with self._connection as connection:
                for message in connection:
                    self.messages.put(json.loads(message))
        except ConnectionClosed as closed:
            self.close_code = closed.rcvd.code if closed.rcvd else None
        else:
            rcvd = self._connection.protocol.close_rcvd
            self.close_code = rcvd.code if rcvd else None
        self.closed.set()

    @property
    def is_open(self) -> bool:
        return self._connection is not None and not self.closed.is_set()

    def wait_closed(self, timeout: float) -> int | None:
        """The close code the server sent, once the socket has closed within `timeout`."""
        assert self.closed.wait(timeout), f"the socket was still open after {timeout} s"
        return self.close_code

    def next_event(self, event_type: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next event of `event_type`; other events in between are skipped."""
        while True:
            try:
                event = self.messages.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {event_type!r} event within {timeout} s") from None
            if event.get("type") == event_type:
                return event

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._reader.join(timeout=5)
