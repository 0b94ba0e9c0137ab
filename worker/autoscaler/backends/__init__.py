"""The platforms a pool's workers can run on, by the name the admin and AUTOSCALER_BACKEND use.

Modules are imported when a pool needs them: a site on one platform never loads the others'
client libraries."""

import importlib

from worker.autoscaler.backends.base import Backend

_MODULES = {
    "local": ("worker.autoscaler.backends.local", "LocalBackend"),
    "kubernetes": ("worker.autoscaler.backends.kubernetes", "KubernetesBackend"),
    "ecs": ("worker.autoscaler.backends.ecs", "EcsBackend"),
    "runpod": ("worker.autoscaler.backends.runpod", "RunPodBackend"),
}
BACKEND_KINDS = tuple(_MODULES)


def backend_class(kind: str) -> type[Backend]:
    if kind not in _MODULES:
        raise KeyError(f"No autoscaler backend called {kind!r}; there are: {', '.join(_MODULES)}.")
    module, name = _MODULES[kind]
    backend: type[Backend] = getattr(importlib.import_module(module), name)
    return backend
