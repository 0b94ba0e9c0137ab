"""GPU worker against bare diffusers on a CUDA machine: images per second of a real worker
process (claiming queued jobs, reporting progress, encoding and storing images) and of a bare
diffusers loop in a process of its own, on Stable Diffusion 1.5's full architecture (random
weights built locally by `create_tiny_model --size sd15`: no download), 512x512, 25 steps, in
half precision, at 1, 4 and 8 images per pipeline call.

    python -m bench.gpu_worker

Without CUDA it says so and exits 0. It needs redis-server (the private one the tests use) and
a database: DATABASE_URL if set, else SQLite in a temporary folder. Each setup is measured on
what it finished within BENCH_SECONDS (default 60); the first call of each (which loads and
warms up) is left out. About 5 minutes on an H200, most of it building the model and starting
processes. BENCH_MODELS_DIR keeps the built model between runs. BENCH_GPU_REHEARSAL=1 runs the
same steps on a CPU with the tiny model at 64x64, 2 steps, to check the script without a GPU;
its figures mean nothing.
"""

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import django

from bench.bare_diffusers import Work, bare_images_per_second
from bench.worker_throughput import PROMPT, jobs_queue

REHEARSAL = os.environ.get("BENCH_GPU_REHEARSAL") == "1"
SIZE, MODEL = ("tiny", "tiny-demo") if REHEARSAL else ("sd15", "sd15-random")
SIDE = 64 if REHEARSAL else 512
STEPS = 2 if REHEARSAL else 25
BATCH_SIZES = [1, 4, 8]
# Images per setup after its first call: a few calls' worth, enough to even out one slow call.
CALLS = int(os.environ.get("BENCH_CALLS", "6"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))


def _cuda_or_exit() -> None:
    import torch

    if not REHEARSAL and not torch.cuda.is_available():
        print("bench.gpu_worker needs a CUDA GPU and torch sees none here: skipped.")
        sys.exit(0)


def _site_prepare() -> tuple[str, float]:
    """The model (built unless BENCH_MODELS_DIR has it) and a bench user with credits."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from accounts.services import account_create
    from generation.models import DiffusionModel
    from worker.pipelines import model_location

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    call_command("create_tiny_model", size=SIZE, verbosity=0)
    print(f"Model {MODEL} ready in {time.monotonic() - started:.0f} s", flush=True)
    # Workers serve every enabled model; only this one may have queues here.
    DiffusionModel.objects.exclude(slug=MODEL).update(enabled=False)
    User.objects.filter(username="bench").delete()
    account_create(username="bench", password=None)
    model = DiffusionModel.objects.get(slug=MODEL)
    return model_location(model.source), model.default_guidance


def _worker_images_per_second(workdir: Path, batch: int) -> tuple[float, str]:
    """A real worker started on a backlog of `batch`-sized calls; its first call (which also
    loads the pipeline) is left out: the rate runs from the first call's end to the last.
    Returns the rate and the worker's log."""
    from generation.models import Generation
    from testing.processes import gpu_worker_start

    ids = jobs_queue(batch * (CALLS + 1), width=SIDE, height=SIDE, steps=STEPS, model=MODEL)
    worker = gpu_worker_start(workdir / f"worker-{batch}.log", "--batch-size", str(batch))
    try:
        deadline = time.monotonic() + SECONDS + 120  # the first call loads the model
        done = Generation.objects.filter(id__in=ids, status__in=["succeeded", "failed"])
        while time.monotonic() < deadline and done.count() < len(ids):
            time.sleep(0.2)
    finally:
        worker.stop()
    failed = Generation.objects.filter(id__in=ids, status="failed").first()
    if failed is not None:
        raise RuntimeError(f"generation {failed.id} failed: {failed.error}\n{worker.output()}")
    finished = sorted(
        finished_at.timestamp()
        for finished_at in Generation.objects.filter(id__in=ids, status="succeeded").values_list(
            "finished_at", flat=True
        )
    )
    after_first = finished[batch - 1 :]
    return (len(after_first) - 1) / (after_first[-1] - after_first[0]), worker.output()


def _precision(log: str) -> str:
    """The precision the worker loaded the model in, from its log."""
    marker = f"Loaded pipeline '{MODEL}' ("
    if marker not in log:
        return "unknown"
    return log.split(marker, 1)[1].split(")", 1)[0]


def _batch_measure(workdir: Path, folder: str, guidance: float, batch: int) -> dict[str, Any]:
    work = Work(width=SIDE, height=SIDE, steps=STEPS, guidance=guidance, batch=batch, prompt=PROMPT)
    bare = bare_images_per_second(
        folder=folder, work=work, processes=1, images=batch * CALLS, seconds=SECONDS
    )
    worker, log = _worker_images_per_second(workdir, batch)
    row = {"batch": batch, "bare": bare, "worker": worker, "precision": _precision(log)}
    print(
        f"batch {batch}: bare {bare:.2f} images/s, worker {worker:.2f} ({worker / bare:.2f} x), "
        f"worker loaded {row['precision']}",
        flush=True,
    )
    return row


def main() -> None:
    _cuda_or_exit()
    workdir = Path(tempfile.mkdtemp(prefix="bench-gpu-worker-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    from testing.environment import test_environment_start, test_environment_stop

    test_environment_start()
    if os.environ.get("BENCH_MODELS_DIR"):
        os.environ["MODELS_DIR"] = os.environ["BENCH_MODELS_DIR"]
    # Credits and headroom for every job; the worker inherits these.
    os.environ.update(SIGNUP_CREDITS="1000000", SUBMISSIONS_PER_MINUTE="1000000")
    os.environ.update(MAX_ACTIVE_GENERATIONS="1000000", TRANSFORMERS_VERBOSITY="error")
    django.setup()
    started = time.monotonic()
    try:
        folder, guidance = _site_prepare()
        rows = [_batch_measure(workdir, folder, guidance, batch) for batch in BATCH_SIZES]
    finally:
        test_environment_stop()
    _report(rows, seconds=time.monotonic() - started)


def _report(rows: list[dict[str, Any]], *, seconds: float) -> None:
    from bench.records import record_append

    print(
        f"\nGPU worker: {MODEL}, {SIDE}x{SIDE}, {STEPS} steps"
        f"{' (rehearsal on the CPU: figures mean nothing)' if REHEARSAL else ''} "
        f"({seconds:.0f} s)"
    )
    print(
        f"{'images per call':>15} {'bare img/s':>11} {'worker img/s':>13} {'ratio':>6}  precision"
    )
    for row in rows:
        print(
            f"{row['batch']:>15} {row['bare']:>11.2f} {row['worker']:>13.2f} "
            f"{row['worker'] / row['bare']:>6.2f}  {row['precision']}"
        )
    if not REHEARSAL and any(row["precision"] != "float16" for row in rows):
        print("WARNING: the worker did not load the model in float16 on CUDA")
    record = {"model": MODEL, "side": SIDE, "steps": STEPS, "rehearsal": REHEARSAL}
    path = record_append("gpu_worker", {**record, "rows": rows})
    print(f"Recorded in {path}")


if __name__ == "__main__":
    main()
