"""The autoscaling simulation (DESIGN.md 7): our policy against the earlier designs and KEDA-,
Knative- and Modal-like ones on every trace and pool, each at its cheapest knob that keeps the
p95 wait within 30 s of the cold start. Pure Python, no database, no GPU: the figures are GPU-
seconds and waits of the simulated pool, and the record keeps how long the simulation took."""

import time

from bench.records import record_append
from worker.autoscaler.comparison import GRID, as_json, compare, saving
from worker.autoscaler.report import table
from worker.autoscaler.traces import TRACES


def main() -> None:
    started = time.perf_counter()
    outcomes = compare(list(TRACES), GRID)
    seconds = time.perf_counter() - started
    print("\n".join(table(outcomes)))
    print(f"\n(simulated in {seconds:.1f} s)")
    savings = {}
    for trace in TRACES:
        for pool in GRID:
            group = [
                o
                for o in outcomes
                if (o.trace, o.cold_start_seconds, o.seconds_per_image)
                == (trace, pool.cold_start_seconds, pool.seconds_per_image)
            ]
            found = saving(group)
            key = f"{trace}/cold{pool.cold_start_seconds}/{pool.seconds_per_image}s"
            savings[key] = None if found is None else round(found[0] * 100, 1)
    path = record_append(
        "autoscaler",
        {"seconds": round(seconds, 1), "saving_percent": savings, "outcomes": as_json(outcomes)},
    )
    print(f"recorded in {path}")


if __name__ == "__main__":
    main()
