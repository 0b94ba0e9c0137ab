from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import pre_delete


class GenerationConfig(AppConfig):
    name = "generation"

    def ready(self) -> None:
        # Accounts sit below generation and cannot call it; a user deleted by any path
        # (account_delete, the admin) takes their generations and their files with them.
        pre_delete.connect(
            _account_generations_delete,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="generation-account-delete",
        )


def _account_generations_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Imported here: apps.py is loaded before the models are ready.
    from generation.services.library import generations_delete_all

    generations_delete_all(user=instance)
