"""What the controller keeps about one pool between rounds: its backend, the policy's memory,
measured cold starts and speed, counts of starts and stops, and backoff after platform errors.

The policy's memory and the measured cold starts are also kept in Redis, so that a controller
that restarts (or a standby that takes over) goes on where the last one stopped: the idle
countdown is not started over, and cold-start estimates are not forgotten."""

import json
import statistics
from collections import deque
from dataclasses import asdict

from generation.fleet import PoolReport
from rollerai.connections import redis_connection
from worker.autoscaler.backends import backend_class
from worker.autoscaler.backends.base import Backend
from worker.autoscaler.policy import PolicyMemory
from worker.autoscaler.pools import PoolSpec

COLD_STARTS_KEPT = 10
# After a platform error the pool waits 2 s, then 4, 8, ... up to a minute before trying again.
BACKOFF_FIRST_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 60.0


def _memory_key(pool: str) -> str:
    return f"autoscaler:pool:{pool}:memory"


def _cold_starts_key(pool: str) -> str:
    return f"autoscaler:pool:{pool}:cold-starts"


def _counts_key(pool: str) -> str:
    return f"autoscaler:pool:{pool}:counts"


class PoolRun:
    def __init__(self, spec: PoolSpec) -> None:
        self.spec = spec
        self.backend: Backend = backend_class(spec.backend)(spec)
        redis = redis_connection()
        raw = redis.get(_memory_key(spec.name))
        self.memory = PolicyMemory(**json.loads(raw)) if raw else PolicyMemory()  # type: ignore[arg-type]
        kept: list[bytes] = redis.lrange(_cold_starts_key(spec.name), 0, -1)  # type: ignore[assignment]
        self.cold_starts: deque[float] = deque(
            (float(value) for value in kept), maxlen=COLD_STARTS_KEPT
        )
        self.seconds_per_image: float | None = None
        # Workers seen starting by this controller, so that their cold start can be measured.
        self.seen_starting: set[str] = set()
        # Totals over every controller's life, for /metrics' counters.
        counts: dict[bytes, bytes] = redis.hgetall(_counts_key(spec.name))  # type: ignore[assignment]
        self.starts = int(counts.get(b"starts", 0))
        self.stops = int(counts.get(b"stops", 0))
        self.decisions = int(counts.get(b"decisions", 0))
        self.failures = 0
        self.retry_at = 0.0
        self.last_error = ""
        self.last_reason = ""
        # What the last round reported, to repeat (with the error) when the platform fails.
        self.last_report: PoolReport | None = None
        self.standings_sent_at = 0.0

    def respec(self, spec: PoolSpec) -> None:
        """The admin changed the pool: a new backend if its platform or settings changed."""
        if (spec.backend, spec.backend_settings) != (self.spec.backend, self.spec.backend_settings):
            self.backend.close()
            self.backend = backend_class(spec.backend)(spec)
        else:
            self.backend.pool = spec
        self.spec = spec

    def memory_keep(self, memory: PolicyMemory) -> None:
        if memory != self.memory:
            redis_connection().set(_memory_key(self.spec.name), json.dumps(asdict(memory)))
        self.memory = memory

    def decided(self) -> None:
        key = _counts_key(self.spec.name)
        self.decisions = int(redis_connection().hincrby(key, "decisions", 1))  # type: ignore[arg-type]

    def started(self, count: int) -> None:
        self.starts = int(redis_connection().hincrby(_counts_key(self.spec.name), "starts", count))  # type: ignore[arg-type]

    def stopped(self, count: int) -> None:
        self.stops = int(redis_connection().hincrby(_counts_key(self.spec.name), "stops", count))  # type: ignore[arg-type]

    def cold_start_measured(self, seconds: float) -> None:
        self.cold_starts.append(seconds)
        pipeline = redis_connection().pipeline()
        pipeline.rpush(_cold_starts_key(self.spec.name), round(seconds, 1))
        pipeline.ltrim(_cold_starts_key(self.spec.name), -COLD_STARTS_KEPT, -1)
        pipeline.execute()

    @property
    def cold_start_seconds(self) -> float | None:
        return statistics.median(self.cold_starts) if self.cold_starts else None

    def report(
        self,
        *,
        live: int,
        starting: int,
        starting_since: float | None,
        busy: int,
        desired: int,
        queued_jobs: int,
        now: float,
    ) -> PoolReport:
        """What the staff page, /metrics and users' ETAs hear of this pool, with this round's
        counts; kept, to repeat with the error when the platform fails."""
        limits = self.spec.limits
        self.last_report = PoolReport(
            name=self.spec.name,
            backend=self.spec.backend,
            models=list(self.spec.models),
            min_workers=limits.min_workers,
            max_workers=limits.max_workers,
            live=live,
            starting=starting,
            starting_since=starting_since,
            busy=busy,
            desired=desired,
            queued_jobs=queued_jobs,
            cold_start_seconds=self.cold_start_seconds or limits.cold_start_seconds,
            cold_start_measured=self.cold_start_seconds is not None,
            seconds_per_image=self.seconds_per_image,
            starts=self.starts,
            stops=self.stops,
            last_decision=self.last_reason,
            decisions=self.decisions,
            backend_error=self.last_error,
            updated_at=now,
        )
        return self.last_report

    def failed(self, error: Exception, now: float) -> None:
        self.failures += 1
        delay = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** (self.failures - 1))
        self.retry_at = now + delay
        self.last_error = str(error)

    def succeeded(self) -> None:
        self.failures = 0
        self.retry_at = 0.0
        self.last_error = ""
