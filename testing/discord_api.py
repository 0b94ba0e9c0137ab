"""A stand-in for Discord's HTTP API on loopback, for the bot's tests: it records every request
(multipart ones split into their JSON payload and files) and answers 200 with a message, or
with the answers a test has lined up for it (a 429, a 500, ...)."""

import email
import email.policy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from testing.loopback_api import LoopbackServer, json_reply


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    payload: Any
    files: list[tuple[str, bytes]]
    at: float
    status: int = 200

    @property
    def content(self) -> str:
        return str((self.payload or {}).get("content") or "")


@dataclass
class LinedUpAnswer:
    matches: Callable[[str, str], bool]
    status: int
    document: Any
    times: int


@dataclass
class DiscordStandIn:
    server: LoopbackServer | None = None
    requests: list[Request] = field(default_factory=list)
    lined_up: list[LinedUpAnswer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}/api/v10"

    def answer(
        self,
        status: int,
        document: Any = None,
        *,
        times: int = 1,
        method: str | None = None,
        path_contains: str = "",
    ) -> None:
        """The next `times` requests that match get this answer instead of a 200."""

        def matches(request_method: str, path: str) -> bool:
            return (method is None or request_method == method) and path_contains in path

        with self.lock:
            self.lined_up.append(LinedUpAnswer(matches, status, document, times))

    def edits(self, token: str = "") -> list[Request]:
        """The edits of interactions' replies (of one token's, if given) that were answered."""
        return [
            request
            for request in self.requests
            if request.method == "PATCH" and request.path.endswith(f"{token}/messages/@original")
        ]

    def wait_for(self, check: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.05)
        raise AssertionError(f"the stand-in never saw it; it got: {self.requests}")

    def _answer(self, method: str, path: str) -> tuple[int, Any]:
        with self.lock:
            for lined_up in self.lined_up:
                if lined_up.times > 0 and lined_up.matches(method, path):
                    lined_up.times -= 1
                    return lined_up.status, lined_up.document
        return 200, {"id": str(len(self.requests) + 1), "content": ""}

    def handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_PATCH(self) -> None:
                self._record("PATCH")

            def do_POST(self) -> None:
                self._record("POST")

            def do_PUT(self) -> None:
                self._record("PUT")

            def _record(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                payload, files = _parsed(self.headers.get("Content-Type", ""), body)
                status, document = stand_in._answer(method, self.path)
                if status == 200 and method == "PUT":
                    document = payload  # a bulk overwrite answers with the commands
                request = Request(
                    method, self.path, dict(self.headers), payload, files, time.monotonic(), status
                )
                with stand_in.lock:
                    stand_in.requests.append(request)
                json_reply(self, status, document)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> "DiscordStandIn":
        self.server = LoopbackServer(self.handler())
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def _parsed(content_type: str, body: bytes) -> tuple[Any, list[tuple[str, bytes]]]:
    """A JSON body, or a multipart one as its `payload_json` and its `files[n]` in order."""
    if not content_type.startswith("multipart/form-data"):
        return (json.loads(body) if body else None), []
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP
    )
    payload: Any = None
    files = []
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        if name == "payload_json":
            payload = json.loads(data)
        else:
            files.append((str(part.get_filename()), data))
    return payload, files
