"""The GPU workers that are alive right now, as they describe themselves in Redis heartbeats.

Workers write; the web tier, the staff page and ETAs read. A worker that stops writing drops out
once its heartbeat expires.
"""

import json
import statistics
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


def model_capacity(slug: str) -> ModelCapacity:
    """How many live workers serve a model, and how long an image takes on them lately."""
    serving = [worker for worker in workers_live() if slug in worker.models]
    timings = [
        worker.seconds_per_image[slug] for worker in serving if slug in worker.seconds_per_image
    ]
    return ModelCapacity(
        workers=len(serving), seconds_per_image=statistics.median(timings) if timings else None
    )
