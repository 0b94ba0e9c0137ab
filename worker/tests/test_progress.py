"""Progress reports are throttled so a fast GPU cannot flood browsers, yet users always see the
first and the last step."""

import itertools

from worker.progress import ProgressThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_fast_steps_report_only_the_first_and_last_step() -> None:
    clock = Clock()
    throttle = ProgressThrottle(total=50, per_second=10, clock=clock)

    reported = []
    for step in range(1, 51):
        clock.now += 0.001  # 1 ms per step: far faster than 10 reports a second
        if throttle.due(step):
            reported.append(step)

    assert reported == [1, 50]


def test_slow_steps_report_at_most_the_configured_rate() -> None:
    clock = Clock()
    throttle = ProgressThrottle(total=100, per_second=10, clock=clock)

    reported = []
    for step in range(1, 101):
        clock.now += 0.025  # 40 steps a second
        if throttle.due(step):
            reported.append(step)

    # 2.5 s of work at 10 reports a second: the first step, one every 4th step, and the last.
    assert reported[0] == 1 and reported[-1] == 100
    assert 20 <= len(reported) <= 27
    # The last step is always reported, however soon after the one before it.
    gaps = [later - earlier for earlier, later in itertools.pairwise(reported[:-1])]
    assert min(gaps) >= 4
