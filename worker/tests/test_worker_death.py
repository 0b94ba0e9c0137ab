"""A worker killed mid-job does not lose the job: another worker runs it again, charged once;
if that worker dies too, the generation fails and is refunded once."""

import signal
import time
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from billing.models import CreditEntry
from billing.selectors import balance_for
from conftest import ARTIFACTS_DIR
from generation.models import DiffusionModel, Generation
from testing.api import generation_post
from testing.events import EventRecorder
from testing.processes import RunningProcess, gpu_worker_start
from testing.waiting import generation_wait

# Long enough on this CPU to be killed mid-way.
SLOW = {"width": 512, "height": 512, "steps": 40}


def statuses(events: list[dict[str, Any]]) -> list[str]:
    """The status sequence, with the many progress events of one status collapsed."""
    collapsed: list[str] = []
    for event in events:
        if not collapsed or collapsed[-1] != event["status"]:
            collapsed.append(event["status"])
    return collapsed


def workers_start(tmp_path: Path, *names: str) -> dict[str, RunningProcess]:
    return {name: gpu_worker_start(tmp_path / f"{name}.log", "--name", name) for name in names}


def running_on(generation_id: str, *, not_on: str = "", timeout: float = 60) -> str:
    """The worker sampling the generation, once one other than `not_on` is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation = Generation.objects.get(id=generation_id)
        # Sampling has begun (step 1 is always recorded): the owner has been told it runs.
        sampling = generation.status == "running" and generation.progress_step >= 1
        if sampling and generation.worker_name != not_on:
            return generation.worker_name
        time.sleep(0.05)
    raise AssertionError(f"{generation_id} is not running on a worker other than {not_on!r}")


def test_a_killed_workers_job_runs_again_on_another_worker_and_is_charged_once(
    transactional_db: None,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    alice_client: Client,
    user: User,
    tmp_path: Path,
) -> None:
    recorder = EventRecorder(user.pk)
    workers = workers_start(tmp_path, "worker-a", "worker-b")
    try:
        generation_id = generation_post(alice_client, **SLOW).json()["id"]
        victim = running_on(generation_id)
        workers.pop(victim).stop(signal.SIGKILL)
        killed_at = time.monotonic()
        recorder.wait_for(generation_id, "succeeded", timeout=120)
    finally:
        for worker in workers.values():
            worker.stop()
        recorder.close()

    events = recorder.of(generation_id)
    assert statuses(events) == ["queued", "running", "queued", "running", "succeeded"]
    generation = Generation.objects.get(id=generation_id)
    assert generation.status == "succeeded"
    assert generation.worker_name != victim
    assert generation.attempts == 2
    assert balance_for(user) == 9
    assert CreditEntry.objects.filter(user=user, kind="generation_debit").count() == 1
    assert not CreditEntry.objects.filter(user=user, kind="generation_refund").exists()
    # The target: running again within 30 s of the kill.
    timed = recorder.timed(generation_id)
    requeued = [index for index, (_, event) in enumerate(timed) if event["status"] == "queued"][1]
    running_again = next(at for at, event in timed[requeued:] if event["status"] == "running")
    seconds = running_again - killed_at
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS_DIR / "kill-to-rerun.txt").write_text(
        f"kill_to_running_again_seconds={seconds:.1f}\n"
    )
    assert seconds < 30


def test_a_generation_whose_worker_dies_twice_fails_and_is_refunded_once(
    transactional_db: None,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    alice_client: Client,
    user: User,
    tmp_path: Path,
) -> None:
    workers = workers_start(tmp_path, "worker-a", "worker-b")
    generation_id = generation_post(alice_client, **SLOW).json()["id"]
    first_victim = running_on(generation_id)
    workers.pop(first_victim).stop(signal.SIGKILL)
    second_victim = running_on(generation_id, not_on=first_victim)
    workers.pop(second_victim).stop(signal.SIGKILL)
    survivor = gpu_worker_start(tmp_path / "worker-c.log", "--name", "worker-c")
    try:
        generation = generation_wait(generation_id, "failed", timeout=60)
    finally:
        survivor.stop()

    assert generation.error == ("The GPU worker stopped twice while making this image.")
    assert balance_for(user) == 10
    assert CreditEntry.objects.filter(user=user, kind="generation_refund").count() == 1
