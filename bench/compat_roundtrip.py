"""What answering only once the images are done costs: the time of a synchronous request
through the OpenAI SDK (/v1/images/generations) and through webuiapi (/sdapi/v1/txt2img), from
call to answer, on a private site (the live server and one GPU worker on the tiny model).

Side by side in the same runs: the generation's own time in the site (submitted -> succeeded,
from the database), so that what the synchronous answer adds (waking the wait, reading the
PNGs, base64, the HTTP round trip) is the difference.
"""

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django

RUNS = int(os.environ.get("BENCH_RUNS", "9"))
SIZE = 256


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="rollerai-bench-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    from testing.environment import test_environment_start, test_environment_stop

    test_environment_start()
    os.environ.update(SIGNUP_CREDITS="1000", SUBMISSIONS_PER_MINUTE="1000")
    django.setup()
    from django.core.management import call_command

    from accounts.services import account_create, api_key_create
    from testing.processes import gpu_worker_start, web_server_start

    call_command("migrate", verbosity=0)
    call_command("create_tiny_model", verbosity=0)
    user = account_create(username="bench", password=None)
    _, key = api_key_create(user=user, name="bench")
    worker = gpu_worker_start(workdir / "worker.log")
    live, url = web_server_start(workdir / "live.log")
    try:
        figures = {name: _runs(call) for name, call in _clients(url, key).items()}
    finally:
        for process in (live, worker):
            process.stop()
        test_environment_stop()
    _report(figures)


def _clients(url: str, key: str) -> dict[str, Callable[[int], None]]:
    import openai
    import webuiapi

    sdk = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
    sdapi = webuiapi.WebUIApi(baseurl=f"{url}/sdapi/v1", username="bench", password=key)

    def openai_generate(run: int) -> None:
        sdk.images.generate(
            prompt=f"a harbour {run}", size=f"{SIZE}x{SIZE}", response_format="b64_json"
        )

    def webuiapi_txt2img(run: int) -> None:
        sdapi.txt2img(prompt=f"a harbour {run}", width=SIZE, height=SIZE, steps=20)

    return {"openai": openai_generate, "webuiapi": webuiapi_txt2img}


def _runs(call: Callable[[int], None]) -> dict[str, Any]:
    from generation.models import Generation

    answered, in_site = [], []
    # One warm-up run loads the pipeline; it is not counted.
    for run in range(RUNS + 1):
        started = time.monotonic()
        call(run)
        took = time.monotonic() - started
        generation = Generation.objects.order_by("-created_at").first()
        assert generation is not None and generation.finished_at is not None
        if run:
            answered.append(took)
            in_site.append((generation.finished_at - generation.created_at).total_seconds())
    added = [answer - site for answer, site in zip(answered, in_site, strict=True)]
    return {
        "request_median_s": round(statistics.median(answered), 3),
        "submitted_to_succeeded_median_s": round(statistics.median(in_site), 3),
        "added_median_s": round(statistics.median(added), 3),
        "added_s": [round(value, 3) for value in added],
    }


def _report(figures: dict[str, dict[str, Any]]) -> None:
    from bench.records import record_append

    for name, runs in figures.items():
        print(
            f"{name}: request {runs['request_median_s']} s, the generation itself "
            f"{runs['submitted_to_succeeded_median_s']} s, added by answering synchronously "
            f"{runs['added_median_s']} s (medians of {RUNS}, {SIZE}x{SIZE}, 20 steps)"
        )
    path = record_append("compat_roundtrip", {"runs": RUNS, "size": SIZE, **figures})
    print(f"recorded in {path}")


if __name__ == "__main__":
    main()
