"""The comparison as the operators read it: one table per trace and pool, a saving line under
each, and a line per trace."""

from collections.abc import Sequence
from itertools import groupby

from worker.autoscaler.comparison import P95_SLACK_SECONDS, Outcome, saving
from worker.autoscaler.traces import TRACES

HEADER = (
    f"{'policy':14} {'GPU-s':>8} {'GPU-s/min':>9} {'p50':>5} {'p95':>5} {'p99':>5} {'max':>5} "
    f"{'starts':>6} {'stops':>5} {'never':>5}  knob"
)


def _row(outcome: Outcome) -> str:
    f = outcome.figures
    knob = outcome.knob if outcome.meets else f"{outcome.knob} (misses p95 at every knob)"
    return (
        f"{outcome.policy:14} {f.gpu_seconds:>8} {f.gpu_seconds_per_minute:>9} "
        f"{f.wait_p50:>5.0f} {f.wait_p95:>5.0f} {f.wait_p99:>5.0f} {f.wait_max:>5.0f} "
        f"{f.starts:>6} {f.stops:>5} {f.never_started:>5}  {knob}"
    )


def _saving_line(outcomes: Sequence[Outcome]) -> str:
    found = saving(outcomes)
    if found is None:
        ours = next((o for o in outcomes if o.policy == "ours"), None)
        if ours is not None and not ours.meets:
            return "  ours misses the p95 promise here"
        return "  no rival meets the p95 promise here"
    share, best = found
    return (
        f"  ours vs best rival ({best.policy}, {best.knob}): {share * 100:+.1f}% GPU-seconds saved"
    )


def _key(outcome: Outcome) -> tuple[str, int, int]:
    return (outcome.trace, outcome.cold_start_seconds, outcome.seconds_per_image)


def table(outcomes: Sequence[Outcome]) -> list[str]:
    """The lines to print."""
    lines = [
        "Each policy at its cheapest knob whose p95 wait is within "
        f"{P95_SLACK_SECONDS} s of the cold start (waits in seconds, GPU-s billed per second "
        "and per started minute).",
    ]
    for (trace, cold, per_image), group in groupby(outcomes, key=_key):
        rows = list(group)
        lines += ["", f"{trace} - cold start {cold} s, {per_image} s per image", HEADER]
        lines += [_row(o) for o in rows]
        lines.append(_saving_line(rows))
    lines.append("")
    for trace, group in groupby(outcomes, key=lambda o: o.trace):
        lines.append(_trace_line(trace, list(group)))
    return lines


def _trace_line(trace: str, outcomes: list[Outcome]) -> str:
    shares = []
    missed = 0
    for _, group in groupby(outcomes, key=_key):
        found = saving(list(group))
        if found is None:
            missed += 1
        else:
            shares.append(found[0] * 100)
    described = TRACES[trace]().description if trace in TRACES else trace
    if not shares:
        return f"{trace}: no comparable pool ({described})"
    figures = ", ".join(f"{s:+.0f}%" for s in shares)
    tail = f"; {missed} pool(s) not comparable" if missed else ""
    return (
        f"{trace}: ours saves {sum(shares) / len(shares):+.1f}% GPU-s on average vs the best "
        f"rival ({figures}){tail} - {described}"
    )
