"""Time from pressing Generate to seeing the image, in a real browser, against a private site
(daphne, one GPU worker, the tiny model), and the worker's own time per job once warm.

Prints medians: this machine is shared and noisy, so single runs say little.
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import django

RUNS = int(os.environ.get("BENCH_RUNS", "9"))
SIZES = [(64, 64, 4), (256, 256, 20)]
PASSWORD = "benchmark password 123"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _site_start(workdir: Path) -> tuple[list[object], str]:
    from django.core.management import call_command

    from testing.processes import gpu_worker_start, web_server_start

    call_command("migrate", verbosity=0)
    call_command("create_tiny_model", verbosity=0)
    worker = gpu_worker_start(workdir / "worker.log")
    server, url = web_server_start(workdir / "web.log")
    return [worker, server], url


def _browser_runs(url: str) -> dict[tuple[int, int, int], list[float]]:
    from playwright.sync_api import sync_playwright

    seconds: dict[tuple[int, int, int], list[float]] = {size: [] for size in SIZES}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS
        )
        page = browser.new_page()
        page.goto(f"{url}/accounts/signup/")
        page.fill("#id_username", "bench")
        page.fill("#id_password1", PASSWORD)
        page.fill("#id_password2", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#live-status[data-state=open]")
        page.click("summary")
        page.fill("#prompt", "a lighthouse on a cliff at dawn")
        for width, height, steps in SIZES:
            page.fill("#width", str(width))
            page.fill("#height", str(height))
            page.fill("#steps", str(steps))
            # One warm-up run loads the pipeline; it is not counted.
            for run in range(RUNS + 1):
                done_before = page.locator(".generation[data-status=succeeded]").count()
                started = time.perf_counter()
                page.click("#generate")
                page.wait_for_function(
                    """count => {
                      const cards = document.querySelectorAll(".generation[data-status=succeeded]");
                      if (cards.length <= count) return false;
                      const img = document.querySelector(".generation .images img");
                      return img && img.complete && img.naturalWidth > 0;
                    }""",
                    arg=done_before,
                    timeout=120_000,
                )
                if run:
                    seconds[(width, height, steps)].append(time.perf_counter() - started)
        browser.close()
    return seconds


def _worker_job_seconds() -> dict[tuple[int, int, int], list[float]]:
    from generation.models import Generation

    seconds: dict[tuple[int, int, int], list[float]] = {}
    generations = Generation.objects.filter(status="succeeded").order_by("created_at")
    for generation in generations:
        assert generation.started_at and generation.finished_at
        key = (generation.width, generation.height, generation.steps)
        seconds.setdefault(key, []).append(
            (generation.finished_at - generation.started_at).total_seconds()
        )
    # Drop each size's first job: the first one loads the pipeline.
    return {key: values[1:] for key, values in seconds.items()}


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="rollerai-bench-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    from testing.environment import test_environment_start, test_environment_stop

    test_environment_start()
    # Enough credits and headroom for every run; the web server and worker inherit these.
    os.environ.update(SIGNUP_CREDITS="1000", SUBMISSIONS_PER_MINUTE="1000")
    django.setup()
    processes, url = _site_start(workdir)
    try:
        browser = _browser_runs(url)
        worker = _worker_job_seconds()
    finally:
        for process in processes:
            process.stop()  # type: ignore[attr-defined]
        test_environment_stop()

    print(f"Generate -> image, tiny model, {RUNS} runs each after one warm-up (seconds):")
    print(f"{'size':>12} {'steps':>5} {'browser median':>15} {'worker median':>14} {'min':>7}")
    for width, height, steps in SIZES:
        seen = browser[(width, height, steps)]
        job = worker.get((width, height, steps), [])
        print(
            f"{width:>5}x{height:<6} {steps:>5} {statistics.median(seen):>15.3f} "
            f"{statistics.median(job) if job else float('nan'):>14.3f} {min(seen):>7.3f}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
