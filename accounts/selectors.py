"""Reads about accounts."""

from django.contrib.auth.models import User
from django.db.models import QuerySet

from accounts.models import ApiKey


def api_keys_for(user: User) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).order_by("revoked_at", "-created_at")


def api_key_is_active(*, api_key_id: int, user_id: int) -> bool:
    """Whether the key still lets its user in: not revoked, and the user still active."""
    return ApiKey.objects.filter(
        id=api_key_id, user_id=user_id, revoked_at__isnull=True, user__is_active=True
    ).exists()


def discord_user_for(*, discord_user_id: str) -> User | None:
    """The active account this Discord user is linked to, or None: a disabled account is not
    theirs to act as."""
    return User.objects.filter(profile__discord_user_id=discord_user_id, is_active=True).first()
