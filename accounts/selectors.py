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
