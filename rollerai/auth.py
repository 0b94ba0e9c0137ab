"""Who is asking, for code that only runs once sign-in has been checked."""

from typing import cast

from django.contrib.auth.models import User
from django.http import HttpRequest


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, in views behind login_required or the API's own authentication."""
    return cast(User, request.user)
