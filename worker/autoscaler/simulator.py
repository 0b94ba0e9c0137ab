"""A deterministic simulator of one worker pool: it replays a trace of arriving jobs against a
scaling policy, in whole seconds, and reports what the pool cost and how long jobs waited.

The pool behaves as the real one does: jobs queue first in, first out; a worker asked for is live
after the cold start and then takes the oldest queued job whenever it is idle (the idle worker
that has waited longest first, as Redis serves blocked BLPOPs); a worker asked to stop finishes
its job, then goes. A worker is billed from the moment it is asked for until it is gone. The
policy sees the pool as the controller would (`PoolState`), every `round_seconds`.

Nothing happens between events (an arrival, a worker coming up, a job ending, a policy round), so
the clock jumps from one to the next; while the pool is empty (no worker, nothing queued) and the
policy did nothing last round, it jumps to the next arrival.
"""

import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from worker.autoscaler.policy import Decision, LiveWorker, PoolState
from worker.autoscaler.traces import Trace


@dataclass(frozen=True)
class SimulatedPool:
    """The pool's hardware and limits for one run."""

    cold_start_seconds: int
    seconds_per_image: int
    max_workers: int = 24
    min_workers: int = 0
    # After the trace's last second, how long the pool may still run to start what is queued.
    drain_grace_seconds: int = 1800


class ScalingPolicy(Protocol):
    """Anything that decides, round by round, like `policy.decide` (it may keep state)."""

    name: str
    # Seconds between two rounds: the controller's is 2 s; KEDA polls every 30 s.
    round_seconds: int

    def decide(self, state: PoolState) -> Decision: ...


@dataclass(frozen=True)
class RunFigures:
    gpu_seconds: int
    # Each worker's lifetime rounded up to whole minutes, as per-minute platforms bill it.
    gpu_seconds_per_minute: int
    wait_p50: float
    wait_p95: float
    wait_p99: float
    wait_max: float
    starts: int
    stops: int
    # Jobs still queued when the run ended (the trace plus the drain grace); their wait is
    # counted in the percentiles as the time they had waited by then.
    never_started: int
    jobs: int


@dataclass
class _Worker:
    id: str
    asked_at: int
    live_at: int
    # The second its job ends; None while it holds no job.
    job_ends_at: int | None = None
    idle_since: int = 0
    stopping: bool = False


def percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile of sorted `values` (0 for none)."""
    if not values:
        return 0.0
    rank = max(1, math.ceil(percent / 100 * len(values)))
    return values[rank - 1]


class _Run:
    """One run's moving parts; `simulate` drives it."""

    def __init__(self, trace: Trace, policy: ScalingPolicy, pool: SimulatedPool) -> None:
        self.trace, self.policy, self.pool = trace, policy, pool
        self.next_job = 0
        self.queue: deque[int] = deque()
        self.queued_images = 0
        self.started_at: list[int | None] = [None] * len(trace.jobs)
        self.starting: list[_Worker] = []
        self.live: list[_Worker] = []
        self.billed: list[int] = []
        self.starts = self.stops = 0
        self.seconds_per_image: float | None = None
        self.cold_start: float | None = None
        self.serial = 0

    def step(self, now: int) -> None:
        """Everything that happens at `now` apart from the policy's round."""
        for worker in [w for w in self.starting if w.live_at <= now]:
            self.starting.remove(worker)
            self.cold_start = float(worker.live_at - worker.asked_at)
            worker.idle_since = now
            if worker.stopping:
                self._gone(worker, now)
            else:
                self.live.append(worker)
        for worker in [w for w in self.live if w.job_ends_at is not None and w.job_ends_at <= now]:
            worker.job_ends_at = None
            worker.idle_since = now
            self.seconds_per_image = float(self.pool.seconds_per_image)
            if worker.stopping:
                self.live.remove(worker)
                self._gone(worker, now)
        jobs = self.trace.jobs
        while self.next_job < len(jobs) and jobs[self.next_job].arrives_at <= now:
            self.queue.append(self.next_job)
            self.queued_images += jobs[self.next_job].images
            self.next_job += 1
        if self.queue:
            self._dispatch(now)

    def _dispatch(self, now: int) -> None:
        idle = sorted(
            (w for w in self.live if w.job_ends_at is None and not w.stopping),
            key=lambda w: w.idle_since,
        )
        for worker in idle:
            if not self.queue:
                return
            job = self.queue.popleft()
            images = self.trace.jobs[job].images
            self.queued_images -= images
            self.started_at[job] = now
            worker.job_ends_at = now + images * self.pool.seconds_per_image

    def state(self, now: int) -> PoolState:
        oldest = self.trace.jobs[self.queue[0]].arrives_at if self.queue else now
        return PoolState(
            now=float(now),
            queued_jobs=len(self.queue),
            queued_images=self.queued_images,
            running_jobs=sum(1 for w in self.live if w.job_ends_at is not None),
            oldest_wait_seconds=float(now - oldest),
            live=tuple(
                LiveWorker(id=w.id, busy=w.job_ends_at is not None, idle_since=float(w.idle_since))
                for w in self.live
                if not w.stopping
            ),
            starting_since=tuple(float(w.asked_at) for w in self.starting if not w.stopping),
            seconds_per_image=self.seconds_per_image,
            cold_start_seconds=self.cold_start,
        )

    def apply(self, decision: Decision, now: int) -> None:
        counted = sum(1 for w in self.live + self.starting if not w.stopping)
        # The platform's quota: never more than the pool's maximum, whatever a policy asks.
        for _ in range(max(0, min(decision.start, self.pool.max_workers - counted))):
            self.serial += 1
            self.starting.append(
                _Worker(
                    id=f"w{self.serial}",
                    asked_at=now,
                    live_at=now + self.pool.cold_start_seconds,
                )
            )
            self.starts += 1
        for worker_id in decision.stop:
            self._stop(worker_id, now)

    def _stop(self, worker_id: str, now: int) -> None:
        for worker in self.starting:
            if worker.id == worker_id and not worker.stopping:
                # A worker not up yet is cancelled: its bill ends now.
                self.starting.remove(worker)
                self._gone(worker, now)
                self.stops += 1
                return
        for worker in self.live:
            if worker.id == worker_id and not worker.stopping:
                self.stops += 1
                if worker.job_ends_at is None:
                    self.live.remove(worker)
                    self._gone(worker, now)
                else:
                    worker.stopping = True  # SIGTERM: it finishes its job, then goes
                return

    def _gone(self, worker: _Worker, now: int) -> None:
        self.billed.append(now - worker.asked_at)

    def next_event(self, now: int, next_round: int) -> int:
        candidates = [next_round]
        if self.next_job < len(self.trace.jobs):
            candidates.append(self.trace.jobs[self.next_job].arrives_at)
        candidates.extend(w.live_at for w in self.starting)
        candidates.extend(w.job_ends_at for w in self.live if w.job_ends_at is not None)
        return max(now + 1, min(candidates))

    def empty(self) -> bool:
        return not (self.queue or self.live or self.starting)

    def figures(self, end: int) -> RunFigures:
        for worker in self.starting + self.live:
            self._gone(worker, end)
        waits = sorted(
            float((start if start is not None else end) - job.arrives_at)
            for job, start in zip(self.trace.jobs, self.started_at, strict=True)
        )
        return RunFigures(
            gpu_seconds=sum(self.billed),
            gpu_seconds_per_minute=sum(math.ceil(b / 60) * 60 for b in self.billed),
            wait_p50=percentile(waits, 50),
            wait_p95=percentile(waits, 95),
            wait_p99=percentile(waits, 99),
            wait_max=waits[-1] if waits else 0.0,
            starts=self.starts,
            stops=self.stops,
            never_started=sum(1 for start in self.started_at if start is None),
            jobs=len(self.trace.jobs),
        )


def simulate(trace: Trace, policy: ScalingPolicy, pool: SimulatedPool) -> RunFigures:
    """Replay `trace` against `policy` on `pool` and report the run."""
    run = _Run(trace, policy, pool)
    end = trace.seconds + pool.drain_grace_seconds
    every = policy.round_seconds
    now = next_round = 0
    quiet = False  # the pool was empty and the policy did nothing last round
    while now <= end:
        run.step(now)
        if now >= next_round:
            empty = run.empty()
            decision = policy.decide(run.state(now))
            run.apply(decision, now)
            next_round = now + every
            quiet = empty and not decision.changes
            if quiet and run.next_job < len(trace.jobs):
                # Nothing can happen before the next job: round up to the policy's grid.
                arrival = trace.jobs[run.next_job].arrives_at
                next_round = max(next_round, math.ceil(arrival / every) * every)
            elif quiet:
                break
        now = run.next_event(now, next_round)
    return run.figures(min(now, end) if quiet else end)
