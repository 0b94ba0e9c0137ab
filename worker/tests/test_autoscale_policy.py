"""The autoscaler's pure policy: given what a pool looks like, how many workers it starts or
stops, and which."""

import pytest

from worker.autoscaler.policy import (
    Decision,
    LiveWorker,
    PolicyMemory,
    PoolLimits,
    PoolState,
    decide,
)

LIMITS = PoolLimits(
    min_workers=0,
    max_workers=4,
    idle_seconds=300,
    cold_start_seconds=60,
    target_wait_seconds=30,
    hold_seconds=60,
    seconds_per_image=10,
)


def idle(worker_id: str, since: float = 0.0) -> LiveWorker:
    return LiveWorker(id=worker_id, busy=False, idle_since=since)


def busy(worker_id: str) -> LiveWorker:
    return LiveWorker(id=worker_id, busy=True, idle_since=0.0)


def state(**fields: object) -> PoolState:
    base: dict[str, object] = {
        "now": 1000.0,
        "queued_jobs": 0,
        "queued_images": 0,
        "running_jobs": 0,
        "oldest_wait_seconds": 0.0,
    }
    base.update(fields)
    return PoolState(**base)  # type: ignore[arg-type]


CASES = [
    pytest.param(
        state(queued_jobs=1, queued_images=1),
        LIMITS,
        PolicyMemory(),
        1,
        (),
        id="scale from zero on the first job",
    ),
    pytest.param(
        state(queued_jobs=1, queued_images=1, oldest_wait_seconds=10),
        PoolLimits(max_workers=4, gather_seconds=30, seconds_per_image=2),
        PolicyMemory(),
        0,
        (),
        id="a gathering pool lets the first job wait for company",
    ),
    pytest.param(
        state(queued_jobs=1, queued_images=1, oldest_wait_seconds=29),
        PoolLimits(max_workers=4, gather_seconds=30, seconds_per_image=2),
        PolicyMemory(),
        1,
        (),
        id="a gathering pool starts a round before the first job would wait past gathering",
    ),
    pytest.param(
        state(queued_jobs=3, queued_images=12, oldest_wait_seconds=10),
        PoolLimits(max_workers=4, gather_seconds=30, seconds_per_image=2),
        PolicyMemory(),
        1,
        (),
        id="a gathering pool starts once the work queued ahead of the last job uses it up",
    ),
    pytest.param(
        state(queued_jobs=40, queued_images=160),
        PoolLimits(max_workers=4, gather_seconds=30),
        PolicyMemory(),
        4,
        (),
        id="a crowd from zero is not gathered: up at once",
    ),
    pytest.param(
        state(queued_jobs=1, queued_images=1, starting_since=(995.0,)),
        LIMITS,
        PolicyMemory(),
        0,
        (),
        id="a starting worker counts as coming capacity: no second start",
    ),
    pytest.param(
        state(queued_jobs=40, queued_images=160),
        LIMITS,
        PolicyMemory(),
        4,
        (),
        id="a crowd from zero: up at once, but never above the maximum",
    ),
    pytest.param(
        state(),
        PoolLimits(min_workers=2, max_workers=4),
        PolicyMemory(),
        2,
        (),
        id="below the minimum: up to it with nothing queued",
    ),
    pytest.param(
        state(live=(idle("a"), idle("b"))),
        PoolLimits(min_workers=2, max_workers=4, idle_seconds=0, hold_seconds=0),
        PolicyMemory(low_since=0.0, idle_since=0.0),
        0,
        (),
        id="never below the minimum, however long idle",
    ),
    pytest.param(
        state(running_jobs=1, live=(busy("a"),)),
        PoolLimits(max_workers=4, idle_seconds=0, hold_seconds=0),
        PolicyMemory(low_since=0.0, idle_since=0.0),
        0,
        (),
        id="a busy worker is never stopped",
    ),
    pytest.param(
        state(running_jobs=2, live=(busy("a"), busy("b"), idle("c", 900.0))),
        LIMITS,
        PolicyMemory(low_since=900.0),
        0,
        ("c",),
        id="after the hold, one idle worker goes and the busy ones stay",
    ),
    pytest.param(
        state(running_jobs=1, live=(busy("a"), idle("b", 990.0), idle("c", 990.0))),
        LIMITS,
        PolicyMemory(low_since=990.0),
        0,
        (),
        id="no stop before the hold has passed",
    ),
    pytest.param(
        state(live=(idle("a", 600.0),)),
        LIMITS,
        PolicyMemory(low_since=600.0, idle_since=600.0),
        0,
        ("a",),
        id="the last worker goes after the idle timeout",
    ),
    pytest.param(
        state(live=(idle("a", 800.0),)),
        LIMITS,
        PolicyMemory(low_since=800.0, idle_since=800.0),
        0,
        (),
        id="the last worker stays until the idle timeout",
    ),
    pytest.param(
        state(
            queued_jobs=5,
            queued_images=20,
            running_jobs=1,
            oldest_wait_seconds=50,
            live=(busy("a"),),
        ),
        LIMITS,
        PolicyMemory(),
        6,
        (),
        id="the oldest job misses the target: up at once to spread the backlog",
    ),
    pytest.param(
        state(
            queued_jobs=1,
            queued_images=1,
            running_jobs=1,
            oldest_wait_seconds=50,
            live=(busy("a"),),
        ),
        LIMITS,
        PolicyMemory(),
        0,
        (),
        id="no start a worker could not help: the backlog is gone before it is ready",
    ),
]


@pytest.mark.parametrize(("pool", "limits", "memory", "starts", "stops"), CASES)
def test_the_policy_decides(
    pool: PoolState,
    limits: PoolLimits,
    memory: PolicyMemory,
    starts: int,
    stops: tuple[str, ...],
) -> None:
    decision = decide(pool, limits, memory)
    have = len(pool.live) + len(pool.starting_since)
    expected_start = min(starts, limits.max_workers - have)
    assert (decision.start, decision.stop) == (expected_start, stops)
    assert limits.min_workers <= decision.desired <= max(limits.max_workers, limits.min_workers)


def test_a_crowd_never_asks_past_the_maximum() -> None:
    decision = decide(state(queued_jobs=100, queued_images=400), LIMITS, PolicyMemory())
    assert decision.start == LIMITS.max_workers
    assert decision.desired == LIMITS.max_workers


def _rounds(queue_lengths: list[int], limits: PoolLimits) -> list[Decision]:
    """Run the policy round after round (2 s apart) on a pool of three live workers, two
    busy, with the queue at each given length."""
    memory = PolicyMemory()
    decisions = []
    workers = (busy("a"), busy("b"), idle("c", 0.0))
    for n, queued in enumerate(queue_lengths):
        round_state = PoolState(
            now=float(n * 2),
            queued_jobs=queued,
            queued_images=queued,
            running_jobs=2,
            oldest_wait_seconds=10.0 if queued else 0.0,
            live=workers,
        )
        decision = decide(round_state, limits, memory)
        memory = decision.memory
        decisions.append(decision)
    return decisions


def test_a_queue_oscillating_around_the_low_mark_does_not_flap() -> None:
    # Two images' work (20 s) against a low mark of (3-1) * 30/2 = 30 s: low; six images: not.
    decisions = _rounds([2, 6] * 100, LIMITS)
    assert sum(1 for d in decisions if d.changes) == 0


def test_extra_workers_go_one_at_a_time_after_the_hold() -> None:
    decisions = _rounds([0] * 40, LIMITS)
    stops = [n for n, d in enumerate(decisions) if d.stop]
    assert all(len(d.stop) <= 1 for d in decisions)
    # The hold is 60 s: 30 rounds of 2 s with the backlog low before the first stop.
    assert stops and stops[0] == 30
