"""The backends by kind, each imported only when asked for: a site scaling with one platform needs
no other platform's client (and the web tier's admin asks only for `settings_problems`)."""

import importlib

from worker.autoscaler.backends.base import Backend

_MODULES = {
    "local": "worker.autoscaler.backends.local",
    "kubernetes": "worker.autoscaler.backends.kubernetes",
    "ecs": "worker.autoscaler.backends.ecs",
    "runpod": "worker.autoscaler.backends.runpod",
}
BACKEND_KINDS: tuple[str, ...] = tuple(_MODULES)
# What a backend module may be missing here without that being a bug: itself, or its client.
_OPTIONAL = {*_MODULES.values(), "kubernetes", "boto3", "botocore", "requests"}


def backend_class(kind: str) -> type[Backend]:
    """The Backend class for `kind` (the one in its module whose `kind` it is); KeyError when the
    kind is unknown or its module is not installed here."""
    if kind not in _MODULES:
        raise KeyError(f"No autoscaler backend {kind!r}: the kinds are {', '.join(BACKEND_KINDS)}.")
    try:
        module = importlib.import_module(_MODULES[kind])
    except ModuleNotFoundError as error:
        # An import error inside a backend that is there must be seen as it is.
        if error.name not in _OPTIONAL:
            raise
        raise KeyError(f"The {kind!r} autoscaler backend is not available here: {error}.")
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, Backend)
            and getattr(value, "kind", None) == kind
        ):
            return value
    raise KeyError(f"{_MODULES[kind]} has no Backend class of kind {kind!r}.")
