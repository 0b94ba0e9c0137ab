"""Reads for the autoscaler: the pools it runs, from the admin or, on a site with none, from the
AUTOSCALER_* settings."""

from django.conf import settings

from generation.selectors import models_enabled
from worker.autoscaler.policy import PoolLimits
from worker.autoscaler.pools import PoolSpec
from worker.models import WorkerPool

# The pool a site gets when the admin has none.
DEFAULT_POOL = "default"


def pools_current() -> list[PoolSpec]:
    enabled_models = tuple(model.slug for model in models_enabled())
    pools = list(WorkerPool.objects.filter(enabled=True).prefetch_related("diffusion_models"))
    if not WorkerPool.objects.exists():
        return [_pool_from_settings(enabled_models)]
    return [_pool_spec(pool, enabled_models) for pool in pools]


def _limits(
    *,
    min_workers: int,
    max_workers: int,
    idle: float,
    cold_start: float,
    target_wait: float,
    gather: float,
) -> PoolLimits:
    return PoolLimits(
        min_workers=min_workers,
        max_workers=max_workers,
        idle_seconds=idle,
        cold_start_seconds=cold_start,
        target_wait_seconds=target_wait,
        gather_seconds=gather,
        hold_seconds=settings.AUTOSCALER_HOLD_SECONDS,
        seconds_per_image=settings.AUTOSCALER_SECONDS_PER_IMAGE,
        round_seconds=settings.AUTOSCALER_ROUND_SECONDS,
    )


def _pool_from_settings(models: tuple[str, ...]) -> PoolSpec:
    return PoolSpec(
        name=DEFAULT_POOL,
        models=models,
        backend=settings.AUTOSCALER_BACKEND,
        limits=_limits(
            min_workers=settings.AUTOSCALER_MIN_WORKERS,
            max_workers=settings.AUTOSCALER_MAX_WORKERS,
            idle=settings.AUTOSCALER_IDLE_SECONDS,
            cold_start=settings.AUTOSCALER_COLD_START_SECONDS,
            target_wait=settings.AUTOSCALER_TARGET_WAIT_SECONDS,
            gather=settings.AUTOSCALER_GATHER_SECONDS,
        ),
        backend_settings=dict(settings.AUTOSCALER_BACKEND_SETTINGS),
    )


def _pool_spec(pool: WorkerPool, enabled_models: tuple[str, ...]) -> PoolSpec:
    chosen = tuple(model.slug for model in pool.diffusion_models.all() if model.enabled)
    return PoolSpec(
        name=pool.name,
        # A pool given no models serves every enabled one.
        models=chosen if pool.diffusion_models.exists() else enabled_models,
        backend=pool.backend,
        limits=_limits(
            min_workers=pool.min_workers,
            max_workers=pool.max_workers,
            idle=pool.idle_seconds,
            cold_start=pool.cold_start_seconds,
            target_wait=pool.target_wait_seconds,
            gather=pool.gather_seconds,
        ),
        backend_settings=dict(pool.backend_settings or {}),
    )
