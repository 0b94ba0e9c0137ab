"""Creating and deleting accounts, signing out, changing passwords, and managing API keys. Every
change that takes access away tells the user's open sockets (accounts.events)."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.events import access_changed_publish
from accounts.models import ApiKey, Profile
from billing.models import CreditEntry
from billing.services.credits import credits_grant
from rollerai.exceptions import InvalidRequest, NotFound

API_KEY_PREFIX = "rai_"
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_RESOLUTION_SECONDS = 60


@transaction.atomic
def account_create(*, username: str, password: str | None, email: str = "") -> User:
    """A new user (with no usable password when they sign in through Firebase), their profile
    and their signup credits, all or nothing."""
    user = User.objects.create_user(username=username, email=email, password=password)
    Profile.objects.create(user=user)
    if settings.SIGNUP_CREDITS > 0:
        credits_grant(
            user=user,
            amount=settings.SIGNUP_CREDITS,
            kind=CreditEntry.Kind.SIGNUP_GRANT,
            reference=f"user:{user.pk}",
        )
    return user


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, user: User, name: str) -> tuple[ApiKey, str]:
    """A new key; the returned key text is never stored and cannot be shown again."""
    name = name.strip()
    if not name:
        raise InvalidRequest("Give the key a name, e.g. the script that will use it.", field="name")
    if len(name) > 100:
        raise InvalidRequest("The name must be at most 100 characters.", field="name")
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        user=user, name=name, prefix=key[: len(API_KEY_PREFIX) + 6], key_hash=_key_hash(key)
    )
    return api_key, key


def api_key_revoke(*, user: User, api_key_id: int) -> None:
    revoked = ApiKey.objects.filter(id=api_key_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not revoked:
        raise NotFound("No such API key.")
    access_changed_publish(user_id=user.pk)


def api_key_authenticate(key: str) -> User | None:
    """The active user a key belongs to, or None for an unknown or revoked key."""
    api_key = api_key_use(key=key)
    return api_key.user if api_key is not None else None


def api_key_use(*, key: str) -> ApiKey | None:
    """The active key with this text (its user loaded), noted as used; None for an unknown or
    revoked key, or one whose user is inactive."""
    api_key = (
        ApiKey.objects.select_related("user")
        .filter(key_hash=_key_hash(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if api_key is None:
        return None
    now = timezone.now()
    if (
        api_key.last_used_at is None
        or (now - api_key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
    ):
        ApiKey.objects.filter(id=api_key.id).update(last_used_at=now)
    return api_key


def account_sign_out(*, request: HttpRequest) -> None:
    """End this browser's session; the user's other sessions and keys stay signed in."""
    user_id = request.user.pk
    logout(request)
    if user_id is not None:
        access_changed_publish(user_id=user_id)


def account_password_change(*, request: HttpRequest, user: User, new_password: str) -> None:
    """Set a new password. Django ties each session to the password, so every other browser is
    signed out; this one is kept signed in (under a new session key). API keys stay valid."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    update_session_auth_hash(request, user)
    access_changed_publish(user_id=user.pk)


def account_delete(*, user: User) -> None:
    """Delete an account for good, with everything that is theirs. The database cascade cannot
    reach files in storage: the app that owns them (generation) removes them as the user goes."""
    user_id = user.pk
    user.delete()
    access_changed_publish(user_id=user_id)
