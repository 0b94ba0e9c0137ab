"""A threaded HTTP server on loopback for the platforms' stand-ins (Kubernetes, RunPod, ECS), and
the JSON API handler the first two share: every request goes to one function, which answers with
a status and a JSON document."""

import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from testing.ports import free_port

# (method, path, headers, JSON body or None) -> (status, JSON document or None for no body)
Answer = Callable[[str, str, Mapping[str, str], Any], tuple[int, Any]]


class LoopbackServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def json_reply(
    handler: BaseHTTPRequestHandler,
    status: int,
    document: Any,
    content_type: str = "application/json",
) -> None:
    data = b"" if document is None else json.dumps(document).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def json_api(answer: Answer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def do_PATCH(self) -> None:
            self._answer("PATCH")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            json_reply(self, *answer(method, self.path, self.headers, body))

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the tests read what the stand-in recorded, not its access log

    return Handler
