"""Reads about accounts."""

from django.contrib.auth.models import User
from django.db.models import QuerySet

from accounts.models import ApiKey


def api_keys_for(user: User) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).order_by("revoked_at", "-created_at")
