"""p50 of `POST /api/v1/generations` and `GET /api/v1/generations`, for this tree and, to compare,
another checkout of the site (BENCH_API_COMPARE_WITH, e.g. a worktree of the commit before a
change), in alternating rounds of one run on one machine.

Measured in-process with Django's test Client on PostgreSQL (DATABASE_URL if it points at
PostgreSQL, else rollerai_bench), each round in a fresh process whose imports come from the tree
being measured; a private Redis holds the queue. Prints the figures and appends a JSON record to
var/bench/api_latency.jsonl.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
THIS_TREE = HERE.parent.parent
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "150"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARM_UP = 20
BODY = json.dumps({"prompt": "a lighthouse at dawn", "width": 64, "height": 64, "steps": 4})
# Limits a real user meets would answer 429 or 402 long before the run ends.
UNLIMITED = {
    "SUBMISSIONS_PER_MINUTE": "100000000",
    "MAX_ACTIVE_GENERATIONS": "100000000",
    "SIGNUP_CREDITS": "100000000",
}


def _round() -> dict[str, list[float]]:
    """One tree's timings (seconds), run inside that tree's process."""
    import django

    from testing.environment import test_environment_start, test_environment_stop

    test_environment_start()
    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts.services import account_create
    from generation.models import DiffusionModel, Generation

    setup_test_environment()
    call_command("migrate", verbosity=0)
    DiffusionModel.objects.get_or_create(
        slug="bench-api", defaults={"name": "Bench", "source": "bench", "default_steps": 4}
    )
    user = account_create(username=f"bench-api-{os.getpid()}", password=None)
    client = Client()
    client.force_login(user)
    try:
        timings = {
            "POST /api/v1/generations": _timed(
                lambda: client.post("/api/v1/generations", BODY, content_type="application/json"),
                202,
            ),
            "GET /api/v1/generations": _timed(lambda: client.get("/api/v1/generations"), 200),
        }
    finally:
        Generation.objects.filter(user=user).delete()
        user.delete()
        test_environment_stop()
    return timings


def _timed(request: object, status: int) -> list[float]:
    seconds = []
    for n in range(WARM_UP + REQUESTS):
        started = time.perf_counter()
        response = request()  # type: ignore[operator]
        elapsed = time.perf_counter() - started
        assert response.status_code == status, response.content[:300]
        if n >= WARM_UP:
            seconds.append(elapsed)
    return seconds


def _round_in(tree: Path) -> dict[str, list[float]]:
    environment = {**os.environ, **UNLIMITED, "PYTHONPATH": str(tree)}
    output = subprocess.run(
        [sys.executable, str(HERE), "--round"],
        cwd=tree,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    from bench.databases import bench_database_url

    os.environ["DATABASE_URL"] = bench_database_url("rollerai_bench")
    trees = {"this tree": THIS_TREE}
    if os.environ.get("BENCH_API_COMPARE_WITH"):
        trees = {"compared": Path(os.environ["BENCH_API_COMPARE_WITH"]), **trees}
    samples: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
    for _ in range(ROUNDS):
        for name, tree in trees.items():
            for endpoint, seconds in _round_in(tree).items():
                samples[name].setdefault(endpoint, []).extend(seconds)
    record = {
        "benchmark": "api_latency",
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "requests": REQUESTS * ROUNDS,
        "trees": {name: str(tree) for name, tree in trees.items()},
        "p50_ms": {
            name: {endpoint: round(statistics.median(s) * 1000, 2) for endpoint, s in by.items()}
            for name, by in samples.items()
        },
    }
    print(f"p50 (ms) over {REQUESTS * ROUNDS} requests each, {ROUNDS} alternating rounds:")
    for name, by_endpoint in record["p50_ms"].items():  # type: ignore[attr-defined]
        for endpoint, p50 in by_endpoint.items():
            print(f"  {name:10} {endpoint:28} {p50:8.2f}  ({trees[name]})")
    results = THIS_TREE / "var" / "bench" / "api_latency.jsonl"
    results.parent.mkdir(parents=True, exist_ok=True)
    with results.open("a") as file:
        file.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--round"]:
        print(json.dumps(_round()))
    else:
        main()
