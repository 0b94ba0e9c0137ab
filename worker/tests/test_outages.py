"""A GPU worker rides out PostgreSQL restarting and Redis coming back empty: it waits, says so
once per outage, keeps its pipelines, finishes the generation it was running and takes the next
one. Storage failing while images are saved fails that generation, readably and refunded once.

Each outage test runs a site of its own on private PostgreSQL and Redis servers, so restarting
them disturbs no other test. Times from the service coming back to the generation's final status
are written to var/test-artifacts/outages.txt."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from billing.selectors import balance_for
from conftest import ARTIFACTS_DIR
from generation.models import DiffusionModel
from testing.api import generation_post
from testing.outage import seconds_until
from testing.outage_site import OutageSite
from testing.processes import RunningProcess, gpu_worker_start
from testing.s3 import s3_server_start
from testing.waiting import generation_wait

# About 10 s of sampling on this CPU: long enough to take a service away mid-run.
SLOW = {"width": 256, "height": 256, "steps": 150}
FINISHED = ("succeeded", "failed", "canceled")


@pytest.fixture
def site(tiny_model_folder: Path) -> Iterator[OutageSite]:
    site = OutageSite()
    yield site
    site.destroy()


def record(line: str) -> None:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS_DIR / "outages.txt").open("a") as artifacts:
        artifacts.write(line + "\n")


def running(site: OutageSite, generation_id: str) -> None:
    seconds_until(lambda: site.status(generation_id) == "running", timeout=60)
    time.sleep(1)  # well into sampling


def next_job_succeeds(site: OutageSite, worker: RunningProcess) -> None:
    generation_id = site.submit()
    seconds_until(lambda: site.status(generation_id) in FINISHED, timeout=60)
    assert site.status(generation_id) == "succeeded"
    assert worker.process.poll() is None


def test_a_postgresql_restart_mid_run_delays_the_generation_and_nothing_else(
    site: OutageSite, tmp_path: Path
) -> None:
    worker = site.worker_start(tmp_path / "worker.log")
    try:
        generation_id = site.submit(**SLOW)
        running(site, generation_id)
        site.postgres.stop()
        time.sleep(4)
        site.postgres.start()
        seconds = seconds_until(lambda: site.status(generation_id) in FINISHED, timeout=300)
        generation = site.generation(generation_id)
        next_job_succeeds(site, worker)
    finally:
        output = worker.output()
        worker.stop()

    record(f"postgresql_back_to_final_status_seconds={seconds:.1f}")
    assert generation is not None
    assert (generation["status"], generation["attempts"]) == ("succeeded", 1)
    assert output.count("The database is unreachable") == 1
    assert "The database is back after" in output
    assert site.balance() == 50 - 2  # 40 granted, 10 welcome credits, 2 images
    assert site.ledger("generation_refund") == 0


def test_redis_coming_back_empty_mid_run_keeps_the_worker_and_its_generation(
    site: OutageSite, tmp_path: Path
) -> None:
    worker = site.worker_start(tmp_path / "worker.log")
    try:
        generation_id = site.submit(**SLOW)
        running(site, generation_id)
        site.redis.stop()
        time.sleep(5)
        site.redis.start()  # empty: no persistence, as queues-only production setups run it
        seconds = seconds_until(lambda: site.status(generation_id) in FINISHED, timeout=300)
        generation = site.generation(generation_id)
        next_job_succeeds(site, worker)
    finally:
        output = worker.output()
        worker.stop()

    record(f"redis_back_to_final_status_seconds={seconds:.1f}")
    assert generation is not None
    assert (generation["status"], generation["attempts"]) == ("succeeded", 1)
    assert output.count("The Redis is unreachable") == 1
    assert "The Redis is back after" in output
    assert site.balance() == 50 - 2  # 40 granted, 10 welcome credits, 2 images


@pytest.fixture
def s3_restartable(
    tmp_path: Path, settings: object, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, object]]:
    from gallery.tests.conftest import s3_client

    server, endpoint = s3_server_start(tmp_path / "moto.log")
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", "rollerai-outage")
    monkeypatch.setenv("AWS_S3_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_S3_REGION_NAME", "us-east-1")
    s3_client(endpoint).create_bucket(Bucket="rollerai-outage")  # type: ignore[attr-defined]
    state: dict[str, object] = {"server": server, "endpoint": endpoint}
    yield state
    state["server"].stop()  # type: ignore[attr-defined]


def test_storage_failing_while_images_are_saved_fails_that_generation_readably_and_refunds_once(
    transactional_db: None,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    s3_restartable: dict[str, object],
    alice_client: Client,
    user: User,
    tmp_path: Path,
) -> None:
    from gallery.tests.conftest import s3_client

    tiny_model.max_steps = 400
    tiny_model.save()
    worker = gpu_worker_start(tmp_path / "worker.log")
    try:
        generation_id = generation_post(alice_client, **SLOW).json()["id"]
        generation_wait(generation_id, "running")
        s3_restartable["server"].stop()  # type: ignore[attr-defined]
        failed = generation_wait(generation_id, *FINISHED, timeout=300)
        endpoint = str(s3_restartable["endpoint"])
        port = int(endpoint.rsplit(":", 1)[1])
        s3_restartable["server"], _ = s3_server_start(tmp_path / "moto-again.log", port)
        s3_client(endpoint).create_bucket(Bucket="rollerai-outage")  # type: ignore[attr-defined]
        after = generation_wait(generation_post(alice_client).json()["id"], *FINISHED)
        assert worker.process.poll() is None
    finally:
        worker.stop()

    assert failed.status == "failed"
    assert failed.error == (
        "The image was made but could not be saved, because storage was unreachable. "
        "Please try again."
    )
    assert after.status == "succeeded", after.error
    assert balance_for(user) == 10 - 1
    assert user.credit_entries.filter(kind="generation_refund").count() == 1
