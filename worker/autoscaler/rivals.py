"""The policies ours is measured against, each as the simulator runs it: the seeds' two earlier
designs, and models of KEDA, Knative's KPA and Modal at their products' documented defaults.
Each is a small stateful object with `decide(state) -> Decision`; `Ours` wraps `policy.decide`.

They are models, not the products: each docstring says what is kept and what is left out. None
can cancel a worker that is still starting (the pool's state does not name them), and a worker
they stop while it holds a job drains (finishes, then goes), as ours do on every backend.
"""

import math
from collections import deque

from worker.autoscaler.policy import Decision, PolicyMemory, PoolLimits, PoolState, decide


def _have(state: PoolState) -> int:
    return len(state.live) + len(state.starting_since)


def toward(state: PoolState, desired: int, max_workers: int, reason: str) -> Decision:
    """The decision that brings the pool to `desired` workers: start the missing ones, or stop
    the surplus, idle ones first (the longest idle first), then busy ones (which drain)."""
    have = _have(state)
    desired = max(0, min(desired, max_workers))
    if desired > have:
        return Decision(start=desired - have, desired=desired, reason=reason)
    if desired == have:
        return Decision(desired=have)
    idle = sorted((w for w in state.live if not w.busy), key=lambda w: w.idle_since)
    busy = [w for w in state.live if w.busy]
    stop = tuple(w.id for w in (idle + busy)[: have - desired])
    return Decision(stop=stop, desired=have - len(stop), reason=reason)


class Ours:
    """`policy.decide`, carrying its memory from round to round as the controller does."""

    name = "ours"
    round_seconds = 2

    def __init__(self, limits: PoolLimits) -> None:
        self.limits = limits
        self.memory = PolicyMemory()

    def decide(self, state: PoolState) -> Decision:
        decision = decide(state, self.limits, self.memory)
        self.memory = decision.memory
        return decision


class FirstDesign:
    """The seeds' first design: one spare worker, with hysteresis marks on the queue's length.
    Every 2 s: work queued and no worker at all, or more than `high` jobs queued and no worker
    starting, starts one worker; at or under `low` jobs queued, one idle worker is stopped."""

    name = "first design"
    round_seconds = 2

    def __init__(self, max_workers: int, high: int = 2, low: int = 0) -> None:
        self.max_workers, self.high, self.low = max_workers, high, low

    def decide(self, state: PoolState) -> Decision:
        have = _have(state)
        if state.queued_jobs and (
            not have or (state.queued_jobs > self.high and not state.starting_since)
        ):
            return toward(state, have + 1, self.max_workers, "over the high mark")
        idle = [w for w in state.live if not w.busy]
        if state.queued_jobs <= self.low and idle:
            return toward(state, have - 1, self.max_workers, "under the low mark")
        return Decision(desired=have)


class SecondDesign:
    """The seeds' second design, as RunPod's serverless workers behave: a worker is started when
    work is queued and none is idle or starting; a worker idle for `idle_seconds` is stopped
    (RunPod's default idle timeout: 5 s)."""

    name = "second design"
    round_seconds = 2

    def __init__(self, max_workers: int, idle_seconds: float = 5.0) -> None:
        self.max_workers, self.idle_seconds = max_workers, idle_seconds

    def decide(self, state: PoolState) -> Decision:
        have = _have(state)
        idle = [w for w in state.live if not w.busy]
        if state.queued_jobs and not idle and not state.starting_since:
            return toward(state, have + 1, self.max_workers, "work and no idle worker")
        expired = tuple(w.id for w in idle if state.now - w.idle_since >= self.idle_seconds)
        if expired:
            return Decision(stop=expired, desired=have - len(expired), reason="idle timeout")
        return Decision(desired=have)


class Keda:
    """KEDA's Redis-list scaler driving an HPA, at their defaults: KEDA polls every 30 s
    (pollingInterval) and activates the deployment (0 -> 1) while the list is not empty; the HPA
    wants ceil(list length / listLength 5) replicas (at least 1 while active), scales up by at
    most max(4 pods, 100%) a round, and scales down only to the highest recommendation of the
    last 300 s (its scale-down stabilization window); KEDA scales to zero once the list has been
    empty for the cooldownPeriod, 300 s. The list holds only queued jobs, not running ones. Left
    out: the HPA's 15 s sync (here every poll) and its 10% tolerance."""

    name = "KEDA"
    round_seconds = 30

    def __init__(
        self,
        max_workers: int,
        cooldown_seconds: float = 300.0,
        list_length: int = 5,
        stabilization_seconds: float = 300.0,
    ) -> None:
        self.max_workers = max_workers
        self.cooldown, self.list_length = cooldown_seconds, list_length
        self.stabilization = stabilization_seconds
        self.recommendations: deque[tuple[float, int]] = deque()
        self.last_active: float | None = None

    def decide(self, state: PoolState) -> Decision:
        have = _have(state)
        if state.queued_jobs:
            self.last_active = state.now
        if not have:
            if state.queued_jobs:
                return toward(state, 1, self.max_workers, "KEDA: activated")
            return Decision()
        if self.last_active is None or state.now - self.last_active >= self.cooldown:
            self.recommendations.clear()
            return toward(state, 0, self.max_workers, "KEDA: cooldown over")
        raw = max(1, math.ceil(state.queued_jobs / self.list_length))
        raw = min(raw, have + max(4, have))
        self.recommendations.append((state.now, raw))
        while self.recommendations[0][0] <= state.now - self.stabilization:
            self.recommendations.popleft()
        desired = max(n for _, n in self.recommendations)
        return toward(state, desired, self.max_workers, "HPA: list length")


class Knative:
    """Knative Serving's KPA at its defaults, for workers that take one job at a time
    (containerConcurrency 1, target utilization 70%: a target of 0.7 in flight per pod). Every
    2 s (tick-interval) it reads the jobs in flight (running and queued) and wants
    ceil(average / 0.7) pods, the average over the 60 s stable window; when the 6 s panic window
    (10% of it) wants twice the ready pods or more, it panics: it scales on the panic window and
    does not scale down until a stable window has passed without panic. Down by at most half
    the ready pods a round (max-scale-down-rate 2); the last pod goes 30 s after zero was first
    wanted (scale-to-zero-grace-period); work at zero pods asks for one at once (the
    activator). Windows count rounds with no sample as zero in flight."""

    name = "Knative"
    round_seconds = 2

    def __init__(
        self,
        max_workers: int,
        stable_seconds: float = 60.0,
        grace_seconds: float = 30.0,
        target: float = 0.7,
    ) -> None:
        self.max_workers, self.target = max_workers, target
        self.stable, self.panic = stable_seconds, stable_seconds / 10
        self.grace = grace_seconds
        self.samples: deque[tuple[float, int]] = deque()
        self.panic_since: float | None = None
        self.zero_since: float | None = None

    def _average(self, now: float, window: float) -> float:
        total = sum(c for t, c in self.samples if t > now - window)
        return total / max(1.0, window / self.round_seconds)

    def decide(self, state: PoolState) -> Decision:
        now, have, ready = state.now, _have(state), len(state.live)
        in_flight = state.running_jobs + state.queued_jobs
        self.samples.append((now, in_flight))
        while self.samples[0][0] <= now - self.stable:
            self.samples.popleft()
        wanted_stable = math.ceil(self._average(now, self.stable) / self.target)
        wanted_panic = math.ceil(self._average(now, self.panic) / self.target)
        if ready and wanted_panic >= 2 * ready:
            self.panic_since = now
        elif self.panic_since is not None and now - self.panic_since >= self.stable:
            self.panic_since = None
        desired = max(wanted_panic, have) if self.panic_since is not None else wanted_stable
        if in_flight:
            desired = max(desired, 1)
        desired = max(desired, ready // 2)
        if desired == 0 and have:
            self.zero_since = now if self.zero_since is None else self.zero_since
            if now - self.zero_since < self.grace:
                desired = 1
        else:
            self.zero_since = None
        return toward(state, desired, self.max_workers, "KPA: concurrency")


class ModalLike:
    """Modal's autoscaler for a function that takes one input at a time: one container per
    input in flight (running or queued), plus `buffer_containers` (default 0) while inputs are
    in flight, at least `min_containers` (default 0); a container idle for the scaledown window
    (default 60 s) is stopped."""

    name = "Modal-like"
    round_seconds = 2

    def __init__(
        self,
        max_workers: int,
        scaledown_window: float = 60.0,
        min_containers: int = 0,
        buffer_containers: int = 0,
    ) -> None:
        self.max_workers, self.window = max_workers, scaledown_window
        self.min, self.buffer = min_containers, buffer_containers

    def decide(self, state: PoolState) -> Decision:
        have = _have(state)
        in_flight = state.running_jobs + state.queued_jobs
        wanted = max(self.min, in_flight + (self.buffer if in_flight else 0))
        if wanted > have:
            return toward(state, wanted, self.max_workers, "Modal: inputs in flight")
        idle = sorted((w for w in state.live if not w.busy), key=lambda w: w.idle_since)
        expired = [w for w in idle if state.now - w.idle_since >= self.window]
        surplus = min(len(expired), have - wanted)
        if surplus > 0:
            stop = tuple(w.id for w in expired[:surplus])
            return Decision(stop=stop, desired=have - surplus, reason="Modal: scaledown window")
        return Decision(desired=have)
