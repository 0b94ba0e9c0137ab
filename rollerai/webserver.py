"""The web server: daphne, except that an overlong request line or header is answered (414 or
431) instead of twisted closing the connection without a word.

Run it exactly like daphne: `python -m rollerai.webserver -b 127.0.0.1 -p 8000
rollerai.asgi:application`.
"""

from typing import Any

from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory
from daphne.server import Server
from twisted.web.http import HTTPChannel, _GenericHTTPChannelProtocol

from rollerai.refusals import refusal_response

# How long a refused client may go on sending before the connection is closed anyway.
REFUSED_CLIENT_SECONDS = 5


class LineLimitedChannel(HTTPChannel):
    """Twisted's HTTP channel, which drops a connection whose request line or a header line
    exceeds MAX_LENGTH (16 kB) without any response; this one answers first."""

    _refused = False

    def dataReceived(self, data: bytes) -> None:
        # The rest of a refused request is read and dropped: closing with unread data would
        # reset the connection, and the client could lose the answer.
        if not self._refused:
            super().dataReceived(data)

    def lineLengthExceeded(self, line: bytes) -> None:
        self._refused = True
        request_line_seen = self._receivedHeaderSize > 0
        path = getattr(self, "_path", b"") if request_line_seen else line.partition(b" ")[2]
        api = path.startswith(b"/api/")
        if request_line_seen:
            message = f"A request header is too long; send at most {self.MAX_LENGTH} bytes each."
            status, code = "431 Request Header Fields Too Large", "header_too_long"
        else:
            message = f"The URL is too long; send at most {self.MAX_LENGTH} bytes."
            status, code = "414 URI Too Long", "uri_too_long"
        # zope interfaces carry no types mypy can check.
        transport: Any = self.transport
        transport.write(refusal_response(status=status, code=code, message=message, api=api))
        # Half-closed: the client reads the answer and its end, and then closes its side.
        transport.loseWriteConnection()
        self.setTimeout(REFUSED_CLIENT_SECONDS)


class LineLimitedHTTPFactory(HTTPFactory):
    def protocol(self) -> _GenericHTTPChannelProtocol:
        return _GenericHTTPChannelProtocol(LineLimitedChannel())


class WebServer(Server):
    """daphne's Server, which builds its HTTP factory inside run(); the factory it assigns is
    swapped for ours as it is set, so nothing of daphne has to be copied."""

    @property
    def http_factory(self) -> HTTPFactory:
        return self._line_limited_factory

    @http_factory.setter
    def http_factory(self, factory: HTTPFactory) -> None:
        self._line_limited_factory = LineLimitedHTTPFactory(factory.server)


class WebCommandLine(CommandLineInterface):
    server_class = WebServer


if __name__ == "__main__":
    WebCommandLine.entrypoint()
