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


def firebase_sdk_url() -> str:
    """The folder the page loads firebase-app.js and firebase-auth.js from, ending in '/'."""
    url = settings.FIREBASE_JS_SDK_URL or f"{settings.STATIC_URL}vendor/firebase/"
    return url if url.endswith("/") else f"{url}/"


def firebase_auth_emulator_url() -> str:
    """The Auth emulator the page's SDK talks to instead of Firebase, or '' for Firebase."""
    host = settings.FIREBASE_AUTH_EMULATOR_HOST
    return f"http://{host}" if host else ""


def site(request: HttpRequest) -> dict[str, Any]:
    web_config = firebase_web_config()
    context: dict[str, Any] = {
        "firebase_web_config": web_config,
        "firebase_sdk_url": firebase_sdk_url() if web_config else "",
        "firebase_auth_emulator_url": firebase_auth_emulator_url() if web_config else "",
        "live_events_url": settings.LIVE_EVENTS_URL,
    }
    if request.user.is_authenticated:
        context["balance"] = balance_for(signed_in_user(request))
    return context
