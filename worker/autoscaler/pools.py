"""A worker pool in plain form: what the controller, the backends and the simulator need of it,
whether it comes from the admin (`worker.models.WorkerPool`) or, on a site with no pool, from the
AUTOSCALER_* settings."""

from dataclasses import dataclass, field
from typing import Any

from worker.autoscaler.policy import PoolLimits


@dataclass(frozen=True)
class PoolSpec:
    name: str
    # Model slugs the pool's workers serve (their queues are the pool's work).
    models: tuple[str, ...]
    backend: str
    limits: PoolLimits
    # The backend's own settings (a Deployment's name, an ECS service, a RunPod template...).
    backend_settings: dict[str, Any] = field(default_factory=dict)
