"""Image-to-image against text-to-image: the worker's own run of a generation (claim, sampling
with progress, PNG and thumbnail to storage, recording), in process, for one image at the same
size and steps, alternating the kinds so that both see the same machine; median of several.

Image-to-image runs only steps x strength of the steps (plus encoding the init image), so at
strength 1.0 it costs about what text-to-image does, and less below.

BENCH_MODEL_SOURCE points at a real model (default: the tiny model, built locally); torch gets
the threads a worker would (WORKER_TORCH_THREADS, WORKERS_PER_MACHINE);
BENCH_WIDTH, BENCH_HEIGHT (128), BENCH_STEPS (20), BENCH_RUNS (9) and BENCH_STRENGTHS
("0.6,1.0") set the work.
"""

import logging
import os
import statistics
import time

import django

from bench.databases import bench_database_url

WIDTH = int(os.environ.get("BENCH_WIDTH", "128"))
HEIGHT = int(os.environ.get("BENCH_HEIGHT", "128"))
STEPS = int(os.environ.get("BENCH_STEPS", "20"))
RUNS = int(os.environ.get("BENCH_RUNS", "9"))
STRENGTHS = [float(s) for s in os.environ.get("BENCH_STRENGTHS", "0.6,1.0").split(",") if s]


def _seconds(generation_id: str, pipelines: object, state: object) -> float:
    from django.conf import settings

    from worker.runner import generation_run

    started = time.perf_counter()
    generation_run(
        generation_id=generation_id,
        pipelines=pipelines,  # type: ignore[arg-type]
        state=state,  # type: ignore[arg-type]
        events_per_second=settings.PROGRESS_EVENTS_PER_SECOND,
        preview_interval=settings.PREVIEW_INTERVAL_SECONDS,
    )
    return time.perf_counter() - started


def main() -> None:
    os.environ["DATABASE_URL"] = bench_database_url("rollerai_bench_image_to_image")
    from testing.environment import test_environment_start, test_environment_stop

    test_environment_start()
    django.setup()
    # Each run's own log line would drown the table.
    logging.getLogger("worker").setLevel(logging.WARNING)
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from accounts.services import account_create
    from generation.models import DiffusionModel, Generation
    from testing.generations import generation_queued, init_image_stored
    from worker.pipelines import PipelineCache, device_pick
    from worker.state import WorkerState
    from worker.torch_threads import torch_threads_apply

    # As a worker sizes them (WORKER_TORCH_THREADS sets them outright), before any torch work.
    threads = torch_threads_apply(
        device=device_pick(),
        setting=settings.WORKER_TORCH_THREADS,
        workers_per_machine=settings.WORKERS_PER_MACHINE,
    )

    call_command("migrate", verbosity=0)
    source = os.environ.get("BENCH_MODEL_SOURCE", "")
    if not source:
        call_command("create_tiny_model", verbosity=0)
        source = "tiny-sd"
    model, _ = DiffusionModel.objects.update_or_create(
        slug="bench-i2i",
        defaults={"name": "Bench", "source": source, "max_width": 2048, "max_height": 2048},
    )
    Generation.objects.filter(user__username="bench-i2i").delete()
    User.objects.filter(username="bench-i2i").delete()
    user = account_create(username="bench-i2i", password=None)
    init = init_image_stored(WIDTH, HEIGHT, color=(200, 120, 40))
    pipelines = PipelineCache(capacity=1, device=device_pick())
    state = WorkerState(name="bench-i2i", models=[model.slug], batch_size=1)
    kinds: dict[str, dict[str, object]] = {"text-to-image": {}}
    steps_run = {"text-to-image": STEPS}
    for strength in STRENGTHS:
        steps_run[f"image-to-image {strength:g}"] = min(int(STEPS * strength), STEPS)
        kinds[f"image-to-image {strength:g}"] = {
            "kind": Generation.Kind.IMAGE,
            "init_image": init,
            "strength": strength,
        }
    fields = {"width": WIDTH, "height": HEIGHT, "steps": STEPS}
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    try:
        for run in range(RUNS + 1):  # the first round loads and warms up, and is left out
            for kind, extra in kinds.items():
                generation = generation_queued(user, model, seed=run, **fields, **extra)
                seconds = _seconds(str(generation.id), pipelines, state)
                generation.refresh_from_db()
                if generation.status != "succeeded":
                    raise RuntimeError(f"{kind} generation {generation.id}: {generation.error}")
                if run:
                    times[kind].append(seconds)
    finally:
        test_environment_stop()

    print(
        f"Image-to-image vs text-to-image: {source} on {pipelines.device} "
        f"({threads.count} torch threads: {threads.reason}), {WIDTH}x{HEIGHT}, {STEPS} steps, "
        f"median of {RUNS} one-image runs; pipeline loads: {pipelines.loads}"
    )
    from bench.records import record_append

    text = statistics.median(times["text-to-image"])
    print(f"{'':22} {'s/image':>8} {'min':>7} {'max':>7} {'ratio':>6} {'steps run':>9}")
    for kind, seconds in times.items():
        median = statistics.median(seconds)
        print(
            f"{kind:22} {median:>8.3f} {min(seconds):>7.3f} {max(seconds):>7.3f} "
            f"{median / text:>6.2f} {steps_run[kind]:>9}"
        )
    rows = {
        kind: {"median_seconds": round(statistics.median(seconds), 4), "steps_run": steps_run[kind]}
        for kind, seconds in times.items()
    }
    figures = {"source": source, "device": pipelines.device, "threads": threads.count}
    figures.update(width=WIDTH, height=HEIGHT)
    path = record_append("image_to_image", {**figures, "steps": STEPS, "runs": RUNS, "rows": rows})
    print(f"Recorded in {path}")


if __name__ == "__main__":
    main()
