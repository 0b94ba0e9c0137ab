"""One round's reading of a pool, put into the policy's terms: what the platform says it runs,
which of those have a heartbeat (up) and which not yet (starting), and the backlog."""

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from generation.backlog import Backlog
from generation.fleet import WorkerStatus
from worker.autoscaler.backends.base import PlatformWorker
from worker.autoscaler.policy import LiveWorker, PoolState
from worker.autoscaler.pools import PoolSpec


@dataclass(frozen=True)
class PoolReading:
    state: PoolState
    # Platform workers that are up, by id (the ones a decision may stop).
    up: dict[str, PlatformWorker]
    starting: list[PlatformWorker]
    heartbeats: dict[str, WorkerStatus]


def pool_read(
    spec: PoolSpec,
    *,
    platform: list[PlatformWorker],
    heartbeats: list[WorkerStatus],
    backlog: Backlog,
    now: float,
    seconds_per_image: float | None,
    cold_start_seconds: float | None,
) -> PoolReading:
    beating = {status.instance: status for status in heartbeats if status.pool == spec.name}
    active = [worker for worker in platform if not worker.stopping]
    up = {worker.id: worker for worker in active if worker.id in beating}
    starting = [worker for worker in active if worker.id not in beating]
    # Draining workers still beat; they are not capacity any more.
    draining = {worker.id for worker in platform if worker.stopping}
    live = tuple(
        LiveWorker(
            id=instance,
            # One the platform does not list (started by hand with WORKER_POOL set) is capacity,
            # but not the controller's to stop: it counts as busy, so it is never chosen.
            busy=bool(status.current_generations) or instance not in up,
            idle_since=status.idle_since or status.started_at,
        )
        for instance, status in sorted(beating.items())
        if instance not in draining
    )
    oldest = backlog.oldest_queued_at.timestamp() if backlog.oldest_queued_at else now
    state = PoolState(
        now=now,
        queued_jobs=backlog.jobs,
        queued_images=backlog.images,
        running_jobs=sum(len(status.current_generations) for status in beating.values()),
        oldest_wait_seconds=max(0.0, now - oldest) if backlog.jobs else 0.0,
        live=live,
        starting_since=tuple(sorted(worker.started_at for worker in starting)),
        seconds_per_image=_seconds_per_image(spec, beating.values()) or seconds_per_image,
        cold_start_seconds=cold_start_seconds,
    )
    return PoolReading(state=state, up=up, starting=starting, heartbeats=beating)


def _seconds_per_image(spec: PoolSpec, statuses: Iterable[WorkerStatus]) -> float | None:
    timings = [
        seconds
        for status in statuses
        for model, seconds in status.seconds_per_image.items()
        if model in spec.models
    ]
    return statistics.median(timings) if timings else None
