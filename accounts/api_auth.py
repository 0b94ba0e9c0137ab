"""Who is calling the JSON API: an API key (`Authorization: Bearer <key>`) or the browser's
session cookie, whose writes must then pass Django's CSRF check."""

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from accounts.services import api_key_authenticate
from rollerai.exceptions import Forbidden, NotSignedIn

# Marks a request that an API key let in; one the session let in has no such mark.
_BY_API_KEY = "rollerai_by_api_key"


def authenticated_by_api_key(request: HttpRequest) -> bool:
    """Whether an API key, rather than the browser's session, let this request in (a
    generation records which front door it came in by)."""
    return getattr(request, _BY_API_KEY, False) is True


class ApiKeyAuth(HttpBearer):
    """A key in the Authorization header. A header that is sent but wrong is refused outright
    (never passed on to the session), so a broken script learns why."""

    def __call__(self, request: HttpRequest) -> User | None:
        authorization = request.headers.get("Authorization")
        if authorization is None:
            return None
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise NotSignedIn(
                "Send the key as 'Authorization: Bearer <key>'.", code="invalid_authorization"
            )
        return self.authenticate(request, key.strip())

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = api_key_authenticate(token)
        if user is None:
            raise NotSignedIn(
                "This API key is unknown or has been revoked.", code="invalid_api_key"
            )
        # The views, like the rest of Django, read who is asking from request.user.
        request.user = user
        setattr(request, _BY_API_KEY, True)
        return user


class SessionAuth(NinjaSessionAuth):
    """The browser's signed-in session. Cookies are sent by browsers on their own, so writes
    must carry the CSRF token too (checked by ninja, with Django's CsrfViewMiddleware)."""

    def _get_key(self, request: HttpRequest) -> Any:
        # Not signed in is a 401, whatever the CSRF token says.
        if not request.user.is_authenticated:
            return None
        try:
            return super()._get_key(request)
        except HttpError:
            raise Forbidden("The CSRF token is missing or wrong.", code="csrf_failed")
