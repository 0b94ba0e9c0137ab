"""What every page needs about the visitor: their balance for the header, and whether (and how)
Firebase sign-in is offered."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from billing.selectors import balance_for
from rollerai.auth import signed_in_user


def firebase_web_config() -> dict[str, str] | None:
    """The browser SDK's config, or None when Firebase sign-in is not configured."""
    if not (settings.FIREBASE_PROJECT_ID and settings.FIREBASE_WEB_API_KEY):
        return None
    return {
        "apiKey": settings.FIREBASE_WEB_API_KEY,
        "authDomain": settings.FIREBASE_AUTH_DOMAIN
        or f"{settings.FIREBASE_PROJECT_ID}.firebaseapp.com",
        "projectId": settings.FIREBASE_PROJECT_ID,
        "appId": settings.FIREBASE_APP_ID,
    }


def site(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {
        "firebase_web_config": firebase_web_config(),
        "live_events_url": settings.LIVE_EVENTS_URL,
    }
    if request.user.is_authenticated:
        context["balance"] = balance_for(signed_in_user(request))
    return context
