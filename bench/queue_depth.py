"""Does a long line slow the API down? Sequential p50 of `POST /api/v1/generations` and of
`GET /api/v1/generations/<id>` of a queued generation at the back of the line, with 0, 1,000,
20,000 and 100,000 other generations queued for the same model, against the production web
command (the Procfile's `web:` line, one process), for this tree and BENCH_COMPARE_WITH.

The line is the site's own: the crowd's generations are bulk-created as generation_submit records
them and put in line by the tree's own generation_enqueue (bench/in_tree/site_tasks.py), in
BENCH_SEED_PROCESSES processes at once; what a real submit writes to Redis is compared with what a
seeded one writes, and the position the API reports for the measured generation is recorded.
The measured POSTs join the line too, so it grows by BENCH_QUEUE_REQUESTS per depth.

Knobs: BENCH_QUEUE_DEPTHS (default 0,1000,20000,100000; seeding 100,000 takes minutes on two
cores), BENCH_QUEUE_REQUESTS (per endpoint, depth and tree), BENCH_QUEUE_ROUNDS (alternating
rounds per depth), BENCH_QUEUE_SECONDS (most seconds one endpoint is timed per round).
"""

import os
import statistics
import time
from typing import Any

from bench.records import record_append
from bench.sites import ApiClient, Site, sites

DEPTHS = sorted(
    int(depth) for depth in os.environ.get("BENCH_QUEUE_DEPTHS", "0,1000,20000,100000").split(",")
)
REQUESTS = int(os.environ.get("BENCH_QUEUE_REQUESTS", "40"))
ROUNDS = int(os.environ.get("BENCH_QUEUE_ROUNDS", "2"))
SECONDS_PER_ROUND = float(os.environ.get("BENCH_QUEUE_SECONDS", "20"))
SEED_PROCESSES = int(os.environ.get("BENCH_SEED_PROCESSES", str(len(os.sched_getaffinity(0)))))
WARM_UP = 3
MIN_SAMPLES = 3
GOAL_RATIO = 1.2
MODEL = "bench-depth"
BODY = {"prompt": "a lighthouse at dawn", "model": MODEL, "width": 64, "height": 64, "steps": 4}
ENDPOINTS = ("POST /api/v1/generations", "GET /api/v1/generations/<id>")


def _site_ready(site: Site) -> tuple[ApiClient, dict[str, Any]]:
    site.task("model", slug=MODEL)
    (user,) = site.task("users", prefix="bench-depth-", count=1)["users"]
    footprints = site.task("footprints", slug=MODEL)
    _, port = site.start("web", WEB_PROCESSES="1")
    assert port is not None
    return ApiClient(port, user["key"]), footprints


def _queue_length(site: Site) -> int:
    return int(site.task("queue_length", slug=MODEL)["queue_length"])


def _seed_to(site: Site, depth: int) -> float:
    """Seconds it took to bring the line to `depth` (nothing is taken off if it is longer)."""
    missing = depth - _queue_length(site)
    if missing <= 0:
        return 0.0
    started = time.perf_counter()
    shares = [
        missing // SEED_PROCESSES + (n < missing % SEED_PROCESSES) for n in range(SEED_PROCESSES)
    ]
    site.tasks_at_once("seed", [{"slug": MODEL, "count": share} for share in shares if share])
    return time.perf_counter() - started


def _timed(call: Any, requests: int) -> list[float]:
    """Seconds of each call after a warm-up, stopping early (past MIN_SAMPLES) when a round
    has taken SECONDS_PER_ROUND: at 100,000 queued a slow tree takes seconds per request."""
    for _ in range(WARM_UP):
        if call() > 1.0:
            break  # nothing left to warm up that a second slow call would
    seconds: list[float] = []
    started = time.monotonic()
    while len(seconds) < requests:
        seconds.append(call())
        if len(seconds) >= MIN_SAMPLES and time.monotonic() - started > SECONDS_PER_ROUND:
            break
    return seconds


def _measure(client: ApiClient, generation_id: str) -> dict[str, list[float]]:
    per_round = max(1, REQUESTS // ROUNDS)
    return {
        ENDPOINTS[0]: _timed(
            lambda: client.expect(202, "POST", "/api/v1/generations", BODY)[1], per_round
        ),
        ENDPOINTS[1]: _timed(
            lambda: client.expect(200, "GET", f"/api/v1/generations/{generation_id}")[1], per_round
        ),
    }


def _depth_run(
    opened: dict[str, Site], clients: dict[str, ApiClient], depth: int
) -> dict[str, dict[str, Any]]:
    """Both trees at one depth: seeded first, then measured in alternating rounds."""
    figures: dict[str, dict[str, Any]] = {}
    targets = {}
    for label, site in opened.items():
        seeded_seconds = _seed_to(site, depth)
        # The generation whose status is read: the newest, at the back of the line.
        answer, _ = clients[label].expect(202, "POST", "/api/v1/generations", BODY)
        targets[label] = answer["id"]
        figures[label] = {
            "queued": _queue_length(site),
            "seed_seconds": round(seeded_seconds, 1),
            "position": answer.get("position"),
            "samples": {endpoint: [] for endpoint in ENDPOINTS},
        }
    for _ in range(ROUNDS):
        for label in opened:
            for endpoint, seconds in _measure(clients[label], targets[label]).items():
                figures[label]["samples"][endpoint].extend(seconds)
    return figures


def _summary(figures: dict[str, Any]) -> dict[str, Any]:
    samples = figures.pop("samples")
    figures["p50_ms"] = {e: round(statistics.median(s) * 1000, 2) for e, s in samples.items()}
    figures["requests"] = {e: len(s) for e, s in samples.items()}
    return figures


def _ratios(by_depth: dict[int, dict[str, dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Per tree and endpoint: p50 at the deepest line over p50 at the shallowest."""
    shallow, deep = by_depth[DEPTHS[0]], by_depth[DEPTHS[-1]]
    return {
        label: {
            endpoint: round(deep[label]["p50_ms"][endpoint] / shallow[label]["p50_ms"][endpoint], 2)
            for endpoint in ENDPOINTS
        }
        for label in shallow
    }


def _print(
    opened: dict[str, Site],
    by_depth: dict[int, dict[str, dict[str, Any]]],
    ratios: dict[str, dict[str, float]],
) -> None:
    print(
        "Queue depth: sequential p50 (ms), the Procfile's web: command with one process, "
        f"{REQUESTS} requests per endpoint, depth and tree in {ROUNDS} alternating rounds"
    )
    for label, site in opened.items():
        print(f"  {label}: {site.tree} ({site.commit}): {site.command('web')}")
    print(f"{'queued':>8} {'tree':11} {'POST':>8} {'GET':>8} {'position':>9} {'seeding s':>10}")
    for figures in by_depth.values():
        for label, row in figures.items():
            post, get = (row["p50_ms"][endpoint] for endpoint in ENDPOINTS)
            position = "-" if row["position"] is None else row["position"]
            print(
                f"{row['queued']:>8} {label:11} {post:>8.2f} {get:>8.2f} {position:>9} "
                f"{row['seed_seconds']:>10.1f}"
            )
    for label, by_endpoint in ratios.items():
        shown = ", ".join(
            f"{endpoint.split()[0]} {ratio:.2f}" for endpoint, ratio in by_endpoint.items()
        )
        print(f"  p50 at {DEPTHS[-1]} / at {DEPTHS[0]}, {label}: {shown} (goal <= {GOAL_RATIO})")


def _print_footprints(footprints: dict[str, dict[str, Any]]) -> None:
    for label, found in footprints.items():
        if "error" in found:
            print(f"  Seeded generations vs a real submit, {label}: {found['error']}")
            continue
        print(
            f"  Seeded generations vs a real submit, {label}: only the submit changes "
            f"{', '.join(found['only_submit']) or 'nothing more'}; only seeding changes "
            f"{', '.join(found['only_seed']) or 'nothing more'}"
        )


def main() -> None:
    by_depth: dict[int, dict[str, dict[str, Any]]] = {}
    with sites("queue_depth") as opened:
        clients, footprints = {}, {}
        for label, site in opened.items():
            clients[label], footprints[label] = _site_ready(site)
        for depth in DEPTHS:
            measured = _depth_run(opened, clients, depth)
            by_depth[depth] = {label: _summary(figures) for label, figures in measured.items()}
        ratios = _ratios(by_depth)
        _print(opened, by_depth, ratios)
        _print_footprints(footprints)
        path = record_append(
            "queue_depth",
            {
                "trees": {label: site.described("web") for label, site in opened.items()},
                "requests": REQUESTS,
                "rounds": ROUNDS,
                "depths": {str(depth): figures for depth, figures in by_depth.items()},
                "ratio_deepest_to_shallowest": ratios,
                "footprints": footprints,
            },
        )
    print(f"Recorded in {path}")


if __name__ == "__main__":
    main()
