"""How many GPU workers a pool should have: a pure function from what the pool looks like now
(and what the previous round remembered) to what to do. No I/O, no clock: the controller
(`manage.py autoscale`) and the simulator (`manage.py autoscale_simulate`) both run this module,
so what the simulator measures is what the controller does.

The rules, in the product's terms:

- Capacity needed: the queued images times the seconds an image takes, spread over enough
  workers that the last one starts within the pool's target wait. A worker that is starting
  counts as capacity that is coming.
- A worker is added only when it helps: it is billed from the moment it is asked for, and it
  takes a cold start before its first image. If the workers the pool has (and those starting)
  will have cleared the backlog by the time a new one would be ready, nobody's wait gets shorter,
  so none is started.
- Up at once, when the oldest queued job would otherwise wait past the target (a cold start
  included, if no worker is live) or the backlog needs more than the pool has.
- From zero, a worker is asked for on the first job, unless the pool gathers (`gather_seconds`,
  0 by default): then, while one worker will do, it waits for company as long as the queue's
  last job (counted as old as the oldest) would still start within `gather_seconds` of a cold
  start had the worker been asked for a round later, so that a few jobs share one cold start.
- Down one worker at a time (one a round), and only an idle one (a worker that holds a job is
  never chosen), after the backlog has stayed under the low mark for the hold time: a queue that
  oscillates around a mark does not make the pool flap.
- The last worker (down to `min_workers`) goes only after the pool has been idle, nothing queued
  and nothing running, for the idle timeout.
- Never below `min_workers`, never above `max_workers`.
"""

import math
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class PoolLimits:
    """A pool's settings, as the admin (or the site's AUTOSCALER_* settings) gives them."""

    min_workers: int = 0
    max_workers: int = 1
    # The last worker stops once the pool has been idle this long.
    idle_seconds: float = 300.0
    # Until cold starts are measured: seconds from asking for a worker to its first heartbeat.
    cold_start_seconds: float = 60.0
    # The wait before a job starts that the pool aims for, once a worker is live.
    target_wait_seconds: float = 30.0
    # How long the backlog must stay under the low mark before one worker is let go.
    hold_seconds: float = 60.0
    # Until measured: seconds per image on this pool's workers.
    seconds_per_image: float = 10.0
    # How often the controller decides (AUTOSCALER_ROUND_SECONDS): a start put off now comes a
    # round later at the soonest, so a rule that waits acts a round early.
    round_seconds: float = 2.0
    # From zero: how much longer than a cold start the first job may wait for company before a
    # worker is asked for (the queued work counting against it), so that a few jobs share one
    # cold start. 0: a worker is asked for on the first job.
    gather_seconds: float = 0.0


@dataclass(frozen=True)
class LiveWorker:
    id: str
    # Holds a job (a lease): never chosen to stop.
    busy: bool
    # When it last finished a job (or came up, if it has run none); for choosing whom to stop.
    idle_since: float


@dataclass(frozen=True)
class PoolState:
    """One round's reading of a pool."""

    now: float
    queued_jobs: int
    queued_images: int
    running_jobs: int
    # Seconds the oldest queued job has waited (0 when nothing is queued).
    oldest_wait_seconds: float
    live: tuple[LiveWorker, ...] = ()
    # When each worker that is starting (asked for, no heartbeat yet) was asked for.
    starting_since: tuple[float, ...] = ()
    # Measured lately; None until the pool has run or started anything.
    seconds_per_image: float | None = None
    cold_start_seconds: float | None = None


@dataclass(frozen=True)
class PolicyMemory:
    """What the policy remembers from one round to the next (the controller keeps it)."""

    # Since when the backlog has been under the low mark without a break.
    low_since: float | None = None
    # Since when the pool has had nothing queued and nothing running.
    idle_since: float | None = None


@dataclass(frozen=True)
class Decision:
    start: int = 0
    stop: tuple[str, ...] = ()
    # The number of workers (live and starting) the pool should have after this round.
    desired: int = 0
    # Why, in a few words, for the operators' log and staff page.
    reason: str = "steady"
    memory: PolicyMemory = field(default_factory=PolicyMemory)

    @property
    def changes(self) -> bool:
        return bool(self.start or self.stop)


def decide(state: PoolState, limits: PoolLimits, memory: PolicyMemory) -> Decision:
    """This round's decision for one pool."""
    memory = _remembered(state, limits, memory)
    have = len(state.live) + len(state.starting_since)
    wanted = _wanted(state, limits)
    if have < limits.min_workers:
        return _start(limits.min_workers - have, have, "below the pool's minimum", memory)
    if wanted > have:
        return _start(wanted - have, have, _why_more(state, have), memory)
    return _maybe_stop(state, limits, memory, have, wanted)


def _rates(state: PoolState, limits: PoolLimits) -> tuple[float, float]:
    seconds_per_image = state.seconds_per_image or limits.seconds_per_image
    cold_start = state.cold_start_seconds or limits.cold_start_seconds
    return seconds_per_image, cold_start


def _wanted(state: PoolState, limits: PoolLimits) -> int:
    """Workers (live and starting) the backlog calls for, at most the pool's maximum."""
    if not state.queued_jobs:
        return 0
    have = len(state.live) + len(state.starting_since)
    if have == 0:
        # Scale from zero: nothing moves until a worker is up. On the first job, unless the pool
        # gathers and one worker will do: then once the gathering time is up.
        needed = max(1, _for_backlog(state, limits, cold_started=0))
        if needed == 1 and _gathering(state, limits):
            return 0
        return min(needed, limits.max_workers)
    needed = _for_backlog(state, limits, cold_started=have)
    if needed <= have and _oldest_misses_target(state, limits):
        needed = have + 1
    return min(needed, limits.max_workers)


def _for_backlog(state: PoolState, limits: PoolLimits, *, cold_started: int) -> int:
    """Workers that get the last queued image started within the target wait, counting only
    the work still left by the time a newly asked-for worker would be ready: what the
    `cold_started` workers already there (or coming) clear in that time is theirs."""
    left = _left_when_ready(state, limits)
    if cold_started and not left:
        return cold_started  # the backlog is gone before a new worker could help
    seconds_per_image, _ = _rates(state, limits)
    target = max(limits.target_wait_seconds, 1.0)
    spread = math.ceil(state.queued_images * seconds_per_image / target)
    # Past a long cold start the workers there have cleared much of the backlog: new ones need
    # only spread what will be left, not the whole of it.
    return max(cold_started, min(spread, cold_started + math.ceil(left / target)))


def _left_when_ready(state: PoolState, limits: PoolLimits) -> float:
    """Seconds of queued work still waiting when a worker asked for now is ready, once the
    pool's workers have taken from the queue meanwhile: a live one for the whole cold start, a
    starting one only for the time it will be up before the new one (it was asked for earlier
    by that much)."""
    seconds_per_image, cold_start = _rates(state, limits)
    head_start = sum(min(cold_start, state.now - since) for since in state.starting_since)
    cleared = len(state.live) * cold_start + head_start
    return max(0.0, state.queued_images * seconds_per_image - cleared)


def _gathering(state: PoolState, limits: PoolLimits) -> bool:
    """With no worker at all: may the pool wait another round for more work? Only while the
    queue's last job, counted as old as the oldest, would still start within
    `gather_seconds` of a cold start if the worker were asked for only at the next round."""
    seconds_per_image, _ = _rates(state, limits)
    # Work queued ahead of the last job: all but its images (one, at the least).
    ahead = (state.queued_images - 1) * seconds_per_image if state.queued_jobs > 1 else 0.0
    return state.oldest_wait_seconds + limits.round_seconds + ahead <= limits.gather_seconds


def _oldest_misses_target(state: PoolState, limits: PoolLimits) -> bool:
    """Has the oldest job waited past the target while the live workers are busy, with more
    work still queued once a new worker would be ready than a target wait's worth? (Less than
    that, the pool there starts it within the target anyway. With no live worker, a new one
    would not be ready before those already starting: it cannot help the oldest job.)"""
    if not state.live or state.oldest_wait_seconds <= limits.target_wait_seconds:
        return False
    return _left_when_ready(state, limits) > limits.target_wait_seconds


def _why_more(state: PoolState, have: int) -> str:
    if have == 0:
        return "scale from zero: work arrived"
    return f"backlog of {state.queued_images} image(s) needs more than {have} worker(s)"


def _start(count: int, have: int, reason: str, memory: PolicyMemory) -> Decision:
    # Adding resets the hold: the backlog was not low.
    return Decision(
        start=count, desired=have + count, reason=reason, memory=replace(memory, low_since=None)
    )


def _remembered(state: PoolState, limits: PoolLimits, memory: PolicyMemory) -> PolicyMemory:
    idle = not state.queued_jobs and not state.running_jobs
    low = _backlog_low(state, limits)
    return PolicyMemory(
        low_since=(memory.low_since if memory.low_since is not None else state.now)
        if low
        else None,
        idle_since=(memory.idle_since if memory.idle_since is not None else state.now)
        if idle
        else None,
    )


def _backlog_low(state: PoolState, limits: PoolLimits) -> bool:
    """Under the low mark: one worker fewer would still start every queued image within half
    the target wait. (The high mark is the full target: between the two nothing changes.)"""
    live = len(state.live)
    if live <= 1:
        return not state.queued_jobs
    seconds_per_image, _ = _rates(state, limits)
    return state.queued_images * seconds_per_image <= (live - 1) * limits.target_wait_seconds / 2


def _maybe_stop(
    state: PoolState, limits: PoolLimits, memory: PolicyMemory, have: int, wanted: int
) -> Decision:
    steady = Decision(desired=have, memory=memory)
    idle = sorted((w for w in state.live if not w.busy), key=lambda w: w.idle_since)
    if have <= limits.min_workers or not idle or state.starting_since:
        return steady
    if have - 1 >= max(wanted, 1):
        # Extra workers: one a round, once the backlog has stayed low for the hold time (the
        # hold is what keeps an oscillating queue from flapping; once it has passed, every
        # idle extra worker is only cost).
        if memory.low_since is None or state.now - memory.low_since < limits.hold_seconds:
            return steady
        return Decision(
            stop=(idle[0].id,),
            desired=have - 1,
            reason=f"backlog low for {limits.hold_seconds:.0f} s: one worker fewer",
            memory=memory,
        )
    # The last worker(s) above the minimum: only once the pool has been idle long enough, and
    # the worker itself too (one that has just come up has not had its chance yet).
    if memory.idle_since is None or state.now - memory.idle_since < limits.idle_seconds:
        return steady
    if state.now - idle[0].idle_since < limits.idle_seconds:
        return steady
    return Decision(
        stop=(idle[0].id,),
        desired=have - 1,
        reason=f"idle for {limits.idle_seconds:.0f} s",
        memory=memory,
    )
