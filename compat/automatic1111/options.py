"""The settings an account keeps through /sdapi/v1/options, and which model a request uses."""

import re
from typing import Any

from django.contrib.auth.models import User

from compat.models import SdOptions
from generation.selectors import models_enabled
from rollerai.exceptions import InvalidRequest

# AUTOMATIC1111's titles end in the weights' short hash: "name [abcdef1234]".
_HASH = re.compile(r"\s*\[[^\]]*\]$")


def checkpoint_slug(title: str) -> str:
    """A model's slug from a checkpoint title as clients send it back."""
    return _HASH.sub("", title.strip())


def checkpoint_of(user: User) -> str:
    """The model the account chose, or "" for the site's first."""
    options = SdOptions.objects.filter(user=user).first()
    return options.sd_model_checkpoint if options else ""


def checkpoint_set(user: User, title: str) -> None:
    slug = checkpoint_slug(title)
    if not models_enabled().filter(slug=slug).exists():
        raise InvalidRequest(
            f"Unknown model '{title}': /sdapi/v1/sd-models lists the ones there are.",
            code="unknown_model",
            field="model",
        )
    SdOptions.objects.update_or_create(user=user, defaults={"sd_model_checkpoint": slug})


def checkpoint_for(user: User, override_settings: dict[str, Any] | None) -> str | None:
    """The model of one request: its override, else the account's choice, else the site's."""
    title = (override_settings or {}).get("sd_model_checkpoint")
    if isinstance(title, str) and title.strip():
        return checkpoint_slug(title)
    return checkpoint_of(user) or None
