"""The fair comparison: every policy on every trace and pool, each at the value of its main knob
that costs the fewest GPU-seconds while the jobs' p95 wait stays within 30 s of the cold start.
`manage.py autoscale_simulate` and `bench/autoscaler.py` print what this returns."""

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

from worker.autoscaler.policy import PoolLimits
from worker.autoscaler.rivals import FirstDesign, Keda, Knative, ModalLike, Ours, SecondDesign
from worker.autoscaler.simulator import RunFigures, ScalingPolicy, SimulatedPool, simulate
from worker.autoscaler.traces import TRACES, Trace

# The promise the comparison holds every policy to: p95 wait within this much of a cold start.
P95_SLACK_SECONDS = 30
GRID = tuple(
    SimulatedPool(cold_start_seconds=cold, seconds_per_image=per_image)
    for cold in (60, 420)
    for per_image in (2, 20)
)

PolicyFactory = Callable[[SimulatedPool], ScalingPolicy]


@dataclass(frozen=True)
class Contender:
    name: str
    # (the knob's value as printed, the policy at that value); the first is the default.
    variants: tuple[tuple[str, PolicyFactory], ...]


def _ours(idle: float, target: float, gather: float = 0.0) -> PolicyFactory:
    def build(pool: SimulatedPool) -> ScalingPolicy:
        return Ours(
            PoolLimits(
                min_workers=pool.min_workers,
                max_workers=pool.max_workers,
                idle_seconds=idle,
                # The pool's expected cold start, as the admin would give it.
                cold_start_seconds=float(pool.cold_start_seconds),
                target_wait_seconds=target,
                gather_seconds=gather,
            )
        )

    return build


def contenders() -> tuple[Contender, ...]:
    defaults = PoolLimits()
    ours_knobs = [(defaults.idle_seconds, defaults.target_wait_seconds, 0.0)] + [
        (idle, target, 0.0) for idle in (0, 30, 120, 600) for target in (30, 90, 240)
    ]
    # A pool that lets the first job wait up to the promise's 30 s past a cold start for
    # company, with the short idle timeouts that go with it.
    ours_knobs += [
        (idle, target, float(P95_SLACK_SECONDS)) for idle in (0, 30) for target in (30, 90, 240)
    ]
    return (
        Contender(
            "ours",
            tuple(
                (_ours_knob(idle, target, gather), _ours(idle, target, gather))
                for idle, target, gather in ours_knobs
            ),
        ),
        Contender(
            "first design",
            tuple(
                (f"high={high} low={low}", _first(high, low))
                for high, low in ((2, 0), (0, 0), (1, 0), (4, 1), (8, 2))
            ),
        ),
        Contender(
            "second design",
            tuple((f"idle={idle}", _second(idle)) for idle in (5, 30, 60, 120, 300, 600)),
        ),
        Contender(
            "KEDA",
            tuple(
                (f"cooldown={cooldown} listLength={length}", _keda(cooldown, length))
                for cooldown, length in ((300, 5), (30, 5), (120, 5), (600, 5), (30, 1), (300, 1))
            ),
        ),
        Contender(
            "Knative",
            tuple(
                (f"stable={stable} grace={grace}", _knative(stable, grace))
                for stable, grace in (
                    (60, 30),
                    (6, 30),
                    (60, 120),
                    (60, 600),
                    (180, 30),
                    (180, 300),
                )
            ),
        ),
        Contender(
            "Modal-like",
            tuple((f"window={w}", _modal(w)) for w in (60, 2, 10, 30, 120, 300, 600)),
        ),
    )


def _ours_knob(idle: float, target: float, gather: float) -> str:
    knob = f"idle={idle:.0f} target={target:.0f}"
    return f"{knob} gather={gather:.0f}" if gather else knob


def _first(high: int, low: int) -> PolicyFactory:
    return lambda pool: FirstDesign(pool.max_workers, high=high, low=low)


def _second(idle: float) -> PolicyFactory:
    return lambda pool: SecondDesign(pool.max_workers, idle_seconds=idle)


def _keda(cooldown: float, length: int) -> PolicyFactory:
    return lambda pool: Keda(pool.max_workers, cooldown_seconds=cooldown, list_length=length)


def _knative(stable: float, grace: float) -> PolicyFactory:
    return lambda pool: Knative(pool.max_workers, stable_seconds=stable, grace_seconds=grace)


def _modal(window: float) -> PolicyFactory:
    return lambda pool: ModalLike(pool.max_workers, scaledown_window=window)


@dataclass(frozen=True)
class Outcome:
    """One policy's chosen run on one trace and pool."""

    trace: str
    cold_start_seconds: int
    seconds_per_image: int
    policy: str
    knob: str
    # Whether its p95 wait met the promise (cold start + 30 s) at the chosen knob.
    meets: bool
    figures: RunFigures


def meets_promise(figures: RunFigures, pool: SimulatedPool) -> bool:
    return figures.wait_p95 <= pool.cold_start_seconds + P95_SLACK_SECONDS


def _run(task: tuple[str, SimulatedPool, str, int]) -> RunFigures:
    # By names and indices, so that a task crosses to another process without closures.
    trace_name, pool, policy_name, variant = task
    contender = next(c for c in contenders() if c.name == policy_name)
    return simulate(_trace(trace_name), contender.variants[variant][1](pool), pool)


_TRACES: dict[str, Trace] = {}


def _trace(name: str) -> Trace:
    if name not in _TRACES:
        _TRACES[name] = TRACES[name]()
    return _TRACES[name]


def compare(
    traces: Sequence[str],
    pools: Sequence[SimulatedPool],
    policies: Sequence[str] | None = None,
    *,
    sweep: bool = True,
    processes: int | None = None,
) -> list[Outcome]:
    """Each policy's best run per trace and pool: its cheapest knob that meets the promise, or,
    if none does, the knob with the shortest p95 wait (marked as missing it)."""
    chosen = [c for c in contenders() if policies is None or c.name in policies]
    tasks = [
        (trace, pool, c.name, variant)
        for trace in traces
        for pool in pools
        for c in chosen
        for variant in range(len(c.variants) if sweep else 1)
    ]
    processes = processes or min(len(os.sched_getaffinity(0)), 8)
    if processes > 1 and len(tasks) > 8:
        with ProcessPoolExecutor(processes) as executor:
            runs = list(executor.map(_run, tasks, chunksize=4))
    else:
        runs = [_run(task) for task in tasks]
    by_group: dict[tuple[str, SimulatedPool, str], list[tuple[str, RunFigures]]] = {}
    for (trace, pool, name, variant), figures in zip(tasks, runs, strict=True):
        label = next(c for c in chosen if c.name == name).variants[variant][0]
        by_group.setdefault((trace, pool, name), []).append((label, figures))
    outcomes = []
    for (trace, pool, name), results in by_group.items():
        meeting = [r for r in results if meets_promise(r[1], pool)]
        if meeting:
            knob, figures = min(meeting, key=lambda r: (r[1].gpu_seconds, r[1].wait_p95))
        else:
            knob, figures = min(results, key=lambda r: (r[1].wait_p95, r[1].gpu_seconds))
        outcomes.append(
            Outcome(
                trace=trace,
                cold_start_seconds=pool.cold_start_seconds,
                seconds_per_image=pool.seconds_per_image,
                policy=name,
                knob=knob,
                meets=bool(meeting),
                figures=figures,
            )
        )
    return outcomes


def saving(outcomes: Sequence[Outcome]) -> tuple[float, Outcome] | None:
    """Ours against the cheapest rival that meets the promise, among one trace and pool's
    outcomes: the share of GPU-seconds ours saves (negative: it costs more), and that rival.
    None when ours misses the promise or no rival meets it."""
    ours = next((o for o in outcomes if o.policy == "ours" and o.meets), None)
    rivals = [o for o in outcomes if o.policy != "ours" and o.meets]
    if ours is None or not rivals:
        return None
    best = min(rivals, key=lambda o: o.figures.gpu_seconds)
    return 1 - ours.figures.gpu_seconds / max(best.figures.gpu_seconds, 1), best


def as_json(outcomes: Sequence[Outcome]) -> list[dict[str, object]]:
    return [asdict(o) for o in outcomes]
