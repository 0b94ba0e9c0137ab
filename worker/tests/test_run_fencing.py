"""A generation is run once even when Redis loses its lease, and a run that was given up on (its
worker frozen past its lease) can never clobber the run that replaced it: its writes change
nothing, and it deletes only the files it wrote itself."""

import signal
import time
from pathlib import Path

import django_rq
import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image
from pytest_django.fixtures import Settings

from billing.models import CreditEntry
from billing.selectors import balance_for
from generation.models import DiffusionModel, Generation
from generation.services import (
    StoredImage,
    generation_progress,
    generation_run_fail,
    generation_start,
    generation_succeed,
    generations_reap,
)
from testing.api import generation_post
from testing.outage import seconds_until
from testing.processes import RunningProcess, gpu_worker_start
from testing.waiting import generation_wait

# A short lease, so a worker truly taken for dead is reaped within seconds.
LEASE = "3"


@pytest.fixture
def slow_model(tiny_model: DiffusionModel) -> DiffusionModel:
    """The tiny model, allowed enough steps to run for many seconds on this CPU."""
    tiny_model.max_steps = 400
    tiny_model.save()
    return tiny_model


# About 10 s of sampling here: far longer than a lease and a few reaper rounds.
SLOW = {"width": 256, "height": 256, "steps": 300}


def workers_start(tmp_path: Path, *names: str) -> dict[str, RunningProcess]:
    return {
        name: gpu_worker_start(
            tmp_path / f"{name}.log", "--name", name, GENERATION_LEASE_SECONDS=LEASE
        )
        for name in names
    }


def running(generation_id: str, *, not_on: str = "", timeout: float = 60) -> Generation:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation = Generation.objects.get(id=generation_id)
        if generation.status == "running" and generation.worker_name != not_on:
            return generation
        time.sleep(0.05)
    raise AssertionError(f"{generation_id} did not start on a worker other than {not_on!r}")


def stored_files(generation: Generation) -> list[str]:
    _, files = default_storage.listdir(f"generations/{generation.id}")
    return sorted(files)


def assert_images_are_one_runs_and_readable(generation: Generation) -> None:
    images = list(generation.images.all())
    assert [image.index for image in images] == list(range(generation.count))
    recorded = sorted(
        name.rsplit("/", 1)[1]
        for image in images
        for name in (image.image.name, image.thumbnail.name)
    )
    # Nothing orphaned: the folder holds exactly the recorded files, all of the final run.
    assert stored_files(generation) == recorded
    assert all(name.startswith(f"{generation.run_token}-") for name in recorded)
    for image in images:
        with default_storage.open(image.image.name) as png:
            assert Image.open(png).size == (generation.width, generation.height)


def assert_charged_once(user: User) -> None:
    assert CreditEntry.objects.filter(user=user, kind="generation_debit").count() == 1
    assert not CreditEntry.objects.filter(user=user, kind="generation_refund").exists()
    assert balance_for(user) == 9


def test_a_redis_flush_mid_run_does_not_run_the_generation_again(
    transactional_db: None,
    slow_model: DiffusionModel,
    tiny_model_folder: Path,
    alice_client: Client,
    user: User,
    tmp_path: Path,
) -> None:
    workers = workers_start(tmp_path, "worker-a")
    try:
        generation_id = generation_post(alice_client, **SLOW).json()["id"]
        running(generation_id)
        time.sleep(1)
        django_rq.get_connection("default").flushdb()  # as if Redis had restarted empty
        generation = generation_wait(generation_id, "succeeded", "failed", timeout=120)
    finally:
        workers["worker-a"].stop()
    # Read once it has stopped: a worker logs a generation as done after recording it.
    output = workers["worker-a"].output()

    assert generation.status == "succeeded", generation.error
    assert generation.attempts == 1
    assert output.count(f"Generation(s) {generation_id} done") == 1
    assert "lost its worker" not in output
    assert_images_are_one_runs_and_readable(generation)
    assert_charged_once(user)


def test_a_lease_deleted_mid_run_is_renewed_and_the_generation_runs_once(
    transactional_db: None,
    slow_model: DiffusionModel,
    tiny_model_folder: Path,
    alice_client: Client,
    user: User,
    tmp_path: Path,
) -> None:
    workers = workers_start(tmp_path, "worker-a", "worker-b")
    try:
        generation_id = generation_post(alice_client, **SLOW).json()["id"]
        first = running(generation_id)
        redis = django_rq.get_connection("default")
        for _ in range(3):  # again and again, through several reaper rounds
            redis.delete(f"generation:{generation_id}:lease")
            time.sleep(1.5)
        generation = generation_wait(generation_id, "succeeded", "failed", timeout=120)
    finally:
        for worker in workers.values():
            worker.stop()

    assert generation.status == "succeeded", generation.error
    assert generation.attempts == 1
    assert generation.worker_name == first.worker_name
    assert_images_are_one_runs_and_readable(generation)
    assert_charged_once(user)


def test_a_frozen_worker_that_wakes_up_after_its_job_was_rerun_changes_nothing(
    transactional_db: None,
    slow_model: DiffusionModel,
    tiny_model_folder: Path,
    alice_client: Client,
    user: User,
    tmp_path: Path,
) -> None:
    workers = workers_start(tmp_path, "worker-a", "worker-b")
    try:
        generation_id = generation_post(alice_client, **SLOW).json()["id"]
        frozen = running(generation_id)
        workers[frozen.worker_name].process.send_signal(signal.SIGSTOP)
        rerun = running(generation_id, not_on=frozen.worker_name)
        workers[frozen.worker_name].process.send_signal(signal.SIGCONT)
        # It stops at its next step, or, frozen right after its claim, never starts sampling.
        woken = workers[frozen.worker_name]
        seconds_until(
            lambda: (
                f"Generation(s) {generation_id} cancelled while running, or now run elsewhere"
                in woken.output()
                or f"Generation {generation_id} is no longer queued" in woken.output()
            ),
            timeout=60,
        )
        generation = generation_wait(generation_id, "succeeded", "failed", timeout=120)
    finally:
        for worker in workers.values():
            worker.stop()

    assert generation.status == "succeeded", generation.error
    assert generation.worker_name == rerun.worker_name
    assert generation.run_token == rerun.run_token != frozen.run_token
    assert generation.attempts == 2
    assert_images_are_one_runs_and_readable(generation)
    assert_charged_once(user)


def test_writes_of_a_run_that_was_given_up_on_change_nothing(
    db: None,
    tiny_model: DiffusionModel,
    alice_client: Client,
    user: User,
    settings: Settings,
) -> None:
    settings.GENERATION_LEASE_SECONDS = 1
    generation_id = generation_post(alice_client).json()["id"]
    stale = generation_start(generation_id=generation_id, worker_name="worker-a")
    assert stale is not None
    django_rq.get_connection("default").delete(f"generation:{generation_id}:lease")
    time.sleep(1.1)
    assert generations_reap() == []  # missing for the first time: maybe Redis just restarted
    time.sleep(2.1)
    assert generations_reap() == [generation_id]
    current = generation_start(generation_id=generation_id, worker_name="worker-b")
    assert current is not None
    image = StoredImage(
        index=0, seed=1, width=64, height=64, image_name="x.png", thumbnail_name="x.webp"
    )

    assert not generation_progress(generation=stale, step=3)
    assert not generation_succeed(generation=stale, images=[image])
    assert not generation_run_fail(generation=stale, error="stale")
    assert generation_progress(generation=current, step=3)
    generation = Generation.objects.get(id=generation_id)
    assert (generation.status, generation.progress_step, generation.images.count()) == (
        "running",
        3,
        0,
    )
    assert generation_succeed(generation=current, images=[image])
    assert Generation.objects.get(id=generation_id).status == "succeeded"
    assert_charged_once(user)
