"""The autoscaling simulator: the same trace and policy give the same figures, billing adds up,
and an idle pool costs nothing."""

import pytest

from worker.autoscaler.comparison import contenders, meets_promise
from worker.autoscaler.policy import PoolLimits
from worker.autoscaler.rivals import Ours
from worker.autoscaler.simulator import SimulatedPool, simulate
from worker.autoscaler.traces import TRACES, Trace, TraceJob, bursty, empty

POOL = SimulatedPool(cold_start_seconds=60, seconds_per_image=2)


def ours(pool: SimulatedPool) -> Ours:
    return Ours(PoolLimits(max_workers=pool.max_workers, cold_start_seconds=60))


def test_the_same_trace_and_policy_give_the_same_figures_twice() -> None:
    first = simulate(bursty(), ours(POOL), POOL)
    second = simulate(bursty(), ours(POOL), POOL)
    assert first == second
    assert first.jobs == len(bursty().jobs) > 0


def test_traces_are_the_same_on_every_build() -> None:
    for build in TRACES.values():
        assert build() == build()


@pytest.mark.parametrize("contender", contenders(), ids=lambda c: c.name)
def test_per_minute_billing_is_never_below_per_second(contender: object) -> None:
    build = contender.variants[0][1]  # type: ignore[attr-defined]
    figures = simulate(bursty(), build(POOL), POOL)
    assert figures.gpu_seconds > 0
    assert figures.gpu_seconds_per_minute >= figures.gpu_seconds


@pytest.mark.parametrize("contender", contenders(), ids=lambda c: c.name)
def test_a_trace_with_no_jobs_costs_nothing_with_min_zero(contender: object) -> None:
    build = contender.variants[0][1]  # type: ignore[attr-defined]
    figures = simulate(empty(), build(POOL), POOL)
    assert (figures.gpu_seconds, figures.starts, figures.jobs) == (0, 0, 0)


def test_one_job_waits_the_cold_start_and_is_billed_for_it() -> None:
    trace = Trace(name="one", description="one job", seconds=600, jobs=(TraceJob(100, 2),))
    pool = SimulatedPool(cold_start_seconds=60, seconds_per_image=20)
    policy = Ours(PoolLimits(max_workers=2, idle_seconds=0, cold_start_seconds=60))
    figures = simulate(trace, policy, pool)
    # Asked for at 100 s (a round), up at 160 s; 40 s of work; it goes at the first round idle.
    assert figures.wait_max == 60
    assert figures.starts == figures.stops == 1
    assert 100 <= figures.gpu_seconds <= 104
    assert figures.gpu_seconds_per_minute == 120
    assert figures.never_started == 0
    assert meets_promise(figures, pool)


def test_jobs_left_queued_at_the_end_count_as_never_started() -> None:
    trace = Trace(
        name="late", description="work past the end", seconds=10, jobs=(TraceJob(0, 4),) * 30
    )
    pool = SimulatedPool(
        cold_start_seconds=60, seconds_per_image=20, max_workers=1, drain_grace_seconds=100
    )
    figures = simulate(trace, Ours(PoolLimits(max_workers=1, cold_start_seconds=60)), pool)
    # The run ends at 110 s (10 s of trace, 100 s of grace): the one worker, up at 60 s, is
    # still on its first 80 s job; the 29 others count as having waited the whole 110 s.
    assert figures.never_started == 29
    assert (figures.wait_p50, figures.wait_max) == (110, 110)
    assert figures.gpu_seconds == 110
