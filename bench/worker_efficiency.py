"""Worker efficiency: images per second of a real GPU worker process (claiming jobs, reporting
progress, encoding and storing images) against a bare diffusers loop on the same model, size
and steps, measured in one run; then the worker with batching at 4 and 8 images per call.

Runs unchanged on a CUDA machine: the worker and the bare loop both pick CUDA when present.
BENCH_MODEL_SOURCE points at a real model folder or hub id (default: the tiny model, built
locally); BENCH_WIDTH, BENCH_HEIGHT, BENCH_STEPS and BENCH_IMAGES set the work.
"""

import functools
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import django

from bench.databases import bench_database_url

WIDTH = int(os.environ.get("BENCH_WIDTH", "256"))
HEIGHT = int(os.environ.get("BENCH_HEIGHT", "256"))
STEPS = int(os.environ.get("BENCH_STEPS", "20"))
IMAGES = int(os.environ.get("BENCH_IMAGES", "16"))
BATCH_SIZES = [int(size) for size in os.environ.get("BENCH_BATCH_SIZES", "4,8").split(",") if size]
PROMPT = "a lighthouse on a cliff at dawn, oil painting"


@functools.cache
def _bare_pipeline(source: str) -> Any:
    from generation.models import DiffusionModel
    from worker.pipelines import PipelineCache, device_pick

    return PipelineCache(capacity=1, device=device_pick()).get(
        DiffusionModel(slug="bench", name="bench", source=source)
    )


def _bare_images_per_second(source: str) -> float:
    """What diffusers alone does: one image per call, in a loop, nothing stored."""
    import torch

    pipeline = _bare_pipeline(source)

    def one(seed: int) -> None:
        pipeline(
            prompt=PROMPT,
            width=WIDTH,
            height=HEIGHT,
            num_inference_steps=STEPS,
            generator=torch.Generator("cpu").manual_seed(seed),
        )

    one(0)  # warm-up
    started = time.perf_counter()
    for seed in range(IMAGES):
        one(seed)
    return IMAGES / (time.perf_counter() - started)


def _worker_images_per_second(workdir: Path, batch_size: int) -> tuple[float, int]:
    """A real worker process started on a backlog of queued jobs. Its first call (which also
    loads the pipeline) is left out: the rate runs from the first call's end to the last."""
    from django.contrib.auth.models import User

    from generation.models import Generation
    from generation.schemas import GenerationRequest
    from generation.services import generation_submit
    from testing.processes import gpu_worker_start
    from testing.waiting import generation_wait

    user = User.objects.get(username="bench")
    request = GenerationRequest(prompt=PROMPT, width=WIDTH, height=HEIGHT, steps=STEPS)
    ids = [generation_submit(user=user, data=request).id for _ in range(IMAGES + batch_size)]
    worker = gpu_worker_start(workdir / f"worker-{batch_size}.log", "--batch-size", str(batch_size))
    try:
        for generation_id in ids:
            generation_wait(generation_id, "succeeded", timeout=1200)
    finally:
        worker.stop()
    finished = sorted(
        generation.finished_at
        for generation in Generation.objects.filter(id__in=ids)
        if generation.finished_at
    )
    calls = worker.output().count(f"Batch of {batch_size} generations")
    return IMAGES / (finished[-1] - finished[batch_size - 1]).total_seconds(), calls


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="rollerai-bench-workers-"))
    os.environ["DATABASE_URL"] = bench_database_url("rollerai_bench_workers")
    from testing.environment import test_environment_start, test_environment_stop

    test_environment_start()
    # Enough credits and headroom for every job this benchmark queues.
    os.environ.update(SIGNUP_CREDITS="100000", SUBMISSIONS_PER_MINUTE="100000")
    os.environ.update(MAX_ACTIVE_GENERATIONS="100000")
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from accounts.services import account_create
    from generation.models import DiffusionModel, Generation

    call_command("migrate", verbosity=0)
    source = os.environ.get("BENCH_MODEL_SOURCE", "")
    if not source:
        call_command("create_tiny_model", verbosity=0)
        source = "tiny-sd"
    DiffusionModel.objects.update_or_create(
        slug="bench",
        defaults={
            "name": "Bench",
            "source": source,
            "enabled": True,
            "max_width": 2048,
            "max_height": 2048,
            "max_steps": 200,
        },
    )
    # Workers serve every enabled model; only this one may have queues here.
    DiffusionModel.objects.exclude(slug="bench").update(enabled=False)
    Generation.objects.filter(user__username="bench").delete()
    User.objects.filter(username="bench").delete()
    account_create(username="bench", password=None)
    try:
        # The machine's speed drifts: the bare loop runs before and after the worker, and the
        # worker is compared with their mean.
        bare_before = _bare_images_per_second(source)
        unbatched, _ = _worker_images_per_second(workdir, 1)
        bare = (bare_before + _bare_images_per_second(source)) / 2
        batched = {size: _worker_images_per_second(workdir, size) for size in BATCH_SIZES}
    finally:
        test_environment_stop()

    print(f"Worker efficiency: {source}, {WIDTH}x{HEIGHT}, {STEPS} steps, {IMAGES} images each")
    print(f"{'':28} {'images/s':>9} {'ratio':>7}")
    print(f"{'bare diffusers loop':28} {bare:>9.2f} {1:>7.2f}")
    print(f"{'worker, batch 1':28} {unbatched:>9.2f} {unbatched / bare:>7.2f}  (to bare)")
    for size, (rate, calls) in batched.items():
        print(
            f"{f'worker, batch {size}':28} {rate:>9.2f} {rate / unbatched:>7.2f}  "
            f"(to batch 1; {calls} calls of {size})"
        )


if __name__ == "__main__":
    main()
