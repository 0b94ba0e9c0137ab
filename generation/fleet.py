"""The GPU workers that are alive right now, as they describe themselves in Redis heartbeats.

Workers write; the web tier, the staff page and ETAs read. A worker that stops writing drops out
once its heartbeat expires.
"""

import json
import statistics
import time
from dataclasses import asdict, dataclass, field

from redis import Redis

from rollerai.connections import redis_connection

HEARTBEAT_SECONDS = 2.0
HEARTBEAT_TTL_SECONDS = 10
_NAMES = "workers"


def _key(name: str) -> str:
    return f"worker:{name}"


@dataclass
class WorkerStatus:
    name: str
    host: str
    pid: int
    device: str
    models: list[str]
    started_at: float
    gpu_name: str = ""
    gpu_memory_gb: float = 0.0
    # Threads torch uses for CPU work in this worker (0: a worker too old to say).
    torch_threads: int = 0
    loaded_models: list[str] = field(default_factory=list)
    pipeline_loads: int = 0
    current_generations: list[str] = field(default_factory=list)
    jobs_done: int = 0
    batches_run: int = 0
    largest_batch: int = 0
    # Recent seconds per image for each model this worker ran, for ETAs.
    seconds_per_image: dict[str, float] = field(default_factory=dict)
    seen_at: float = 0.0
    # The autoscaler's pool that started it ('' for one started by hand) and the platform's
    # name for it (see worker.instance).
    pool: str = ""
    instance: str = ""
    # When it last finished a job, or came up: the controller stops the longest idle first.
    idle_since: float = 0.0


def worker_heartbeat_write(status: WorkerStatus) -> None:
    redis = redis_connection()
    pipeline = redis.pipeline()
    pipeline.set(_key(status.name), json.dumps(asdict(status)), ex=HEARTBEAT_TTL_SECONDS)
    pipeline.sadd(_NAMES, status.name)
    pipeline.execute()


def worker_heartbeat_remove(name: str) -> None:
    redis = redis_connection()
    redis.delete(_key(name))
    redis.srem(_NAMES, name)


def workers_live() -> list[WorkerStatus]:
    redis: Redis = redis_connection()
    names = sorted(name.decode() for name in redis.smembers(_NAMES))  # type: ignore[union-attr]
    if not names:
        return []
    workers = []
    heartbeats: list[bytes | None] = redis.mget([_key(name) for name in names])  # type: ignore[assignment]
    for name, raw in zip(names, heartbeats, strict=True):
        if raw is None:
            redis.srem(_NAMES, name)  # its heartbeat expired: the worker is gone
            continue
        workers.append(WorkerStatus(**json.loads(raw)))
    return workers


@dataclass(frozen=True)
class ModelCapacity:
    workers: int
    seconds_per_image: float | None
    # Workers the autoscaler has asked for that are not up yet, and seconds until the first
    # should be (0: any moment now; None: none starting).
    starting: int = 0
    ready_in_seconds: float | None = None
    # The pool runs (or is starting) all the workers it may: more work waits for these.
    at_max: bool = False


def model_capacity(slug: str) -> ModelCapacity:
    """How many live workers serve a model, and how long an image takes on them lately; and,
    from the autoscaler, what is starting for it."""
    serving = [worker for worker in workers_live() if slug in worker.models]
    timings = [
        worker.seconds_per_image[slug] for worker in serving if slug in worker.seconds_per_image
    ]
    seconds_per_image = statistics.median(timings) if timings else None
    report = model_pool_report(slug)
    if report is None:
        return ModelCapacity(workers=len(serving), seconds_per_image=seconds_per_image)
    ready_in = None
    if report.starting and report.starting_since is not None:
        ready_at = report.starting_since + report.cold_start_seconds
        ready_in = max(0.0, ready_at - time.time())
    return ModelCapacity(
        workers=len(serving),
        seconds_per_image=seconds_per_image or report.seconds_per_image,
        starting=report.starting,
        ready_in_seconds=ready_in,
        at_max=report.at_max,
    )


# What the autoscaler last said about each pool; written each round by `manage.py autoscale`
# and read by ETAs, /metrics and the staff page. It expires if the controller stops.
POOL_REPORT_TTL_SECONDS = 30
_POOLS = "autoscaler:pools"
_DECISIONS = "autoscaler:decisions"
DECISIONS_KEPT = 100


def _pool_key(name: str) -> str:
    return f"autoscaler:pool:{name}"


@dataclass
class PoolReport:
    name: str
    backend: str
    models: list[str]
    min_workers: int
    max_workers: int
    live: int
    # Asked for, not up yet; the earliest was asked for at `starting_since`.
    starting: int
    starting_since: float | None
    busy: int
    desired: int
    queued_jobs: int
    # Expected seconds from asking for a worker to its first heartbeat (measured when known).
    cold_start_seconds: float
    cold_start_measured: bool
    seconds_per_image: float | None
    starts: int
    stops: int
    last_decision: str
    # Decisions that changed something, carried out, over every controller's life.
    decisions: int = 0
    # Why the backend could not carry out the last decision ('' when it could).
    backend_error: str = ""
    updated_at: float = 0.0

    @property
    def at_max(self) -> bool:
        """Every worker the pool may run is up or starting: more work waits for these."""
        return self.live + self.starting >= self.max_workers


def pool_report_write(report: PoolReport, decision: dict[str, object] | None = None) -> None:
    redis = redis_connection()
    pipeline = redis.pipeline()
    pipeline.set(_pool_key(report.name), json.dumps(asdict(report)), ex=POOL_REPORT_TTL_SECONDS)
    pipeline.sadd(_POOLS, report.name)
    if decision is not None:
        pipeline.lpush(_DECISIONS, json.dumps(decision))
        pipeline.ltrim(_DECISIONS, 0, DECISIONS_KEPT - 1)
    pipeline.execute()


def pool_reports() -> list[PoolReport]:
    redis: Redis = redis_connection()
    names = sorted(name.decode() for name in redis.smembers(_POOLS))  # type: ignore[union-attr]
    if not names:
        return []
    raws: list[bytes | None] = redis.mget([_pool_key(name) for name in names])  # type: ignore[assignment]
    reports = []
    for name, raw in zip(names, raws, strict=True):
        if raw is None:
            redis.srem(_POOLS, name)  # no controller has spoken for it lately
            continue
        reports.append(PoolReport(**json.loads(raw)))
    return reports


def pool_decisions(limit: int = 20) -> list[dict[str, object]]:
    """The newest decisions that changed something, newest first."""
    raws: list[bytes] = redis_connection().lrange(_DECISIONS, 0, limit - 1)  # type: ignore[assignment]
    return [json.loads(raw) for raw in raws]


def model_pool_report(slug: str) -> PoolReport | None:
    """The report of the pool whose workers serve this model (the first, if several do)."""
    for report in pool_reports():
        if slug in report.models:
            return report
    return None
