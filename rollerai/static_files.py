"""WhiteNoise, which serves the static files, made to run in either of Django's modes.

WhiteNoise's middleware is synchronous only, and under ASGI a single such middleware makes
Django run the whole chain, the view included, in a thread: an async view (the compatible APIs,
which wait for images) would hold a thread for its whole wait. Finding a static file is a
lookup (a stat with autorefresh), so it runs the same in both modes."""

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):  # type: ignore[misc]
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        super().__init__(get_response)
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request: HttpRequest) -> Any:
        # WhiteNoiseMiddleware.__call__, awaiting the rest of the chain.
        if self.autorefresh:
            static_file = self.find_file(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return self.serve(static_file, request)
        return await self.get_response(request)
