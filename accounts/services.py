"""Creating accounts."""

from django.contrib.auth.models import User
from django.db import transaction

from accounts.models import Profile


@transaction.atomic
def account_create(*, username: str, password: str) -> User:
    """Create a user with a usable password and their profile, in one transaction."""
    user = User.objects.create_user(username=username, password=password)
    Profile.objects.create(user=user)
    return user
