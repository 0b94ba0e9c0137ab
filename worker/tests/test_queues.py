"""Which worker gets which job: each model's queue goes to the workers serving that model, paying
users' jobs go first, and generations that Redis lost are put back and still complete."""

from pathlib import Path

import django_rq
from django.contrib.auth.models import User
from django.test import Client

from billing.models import CreditEntry
from billing.services.credits import credits_grant
from generation.models import DiffusionModel
from testing.api import generation_post
from testing.processes import gpu_worker_start
from testing.waiting import generation_wait


def test_each_job_lands_on_a_worker_serving_its_model(
    transactional_db: None,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    alice_client: Client,
    tmp_path: Path,
) -> None:
    DiffusionModel.objects.create(slug="tiny-other", name="Tiny other", source="tiny-sd")
    for_a = [generation_post(alice_client, model="tiny-demo").json()["id"] for _ in range(2)]
    for_b = [generation_post(alice_client, model="tiny-other").json()["id"] for _ in range(2)]
    first = gpu_worker_start(tmp_path / "a.log", "--model", "tiny-demo", "--name", "worker-a")
    second = gpu_worker_start(tmp_path / "b.log", "--model", "tiny-other", "--name", "worker-b")
    try:
        done = {gid: generation_wait(gid, "succeeded") for gid in for_a + for_b}
    finally:
        first.stop()
        second.stop()

    assert {done[gid].worker_name for gid in for_a} == {"worker-a"}
    assert {done[gid].worker_name for gid in for_b} == {"worker-b"}


def test_paying_users_jobs_run_first(
    transactional_db: None,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    alice_client: Client,
    bob_client: Client,
    user: User,
    tmp_path: Path,
) -> None:
    credits_grant(user=user, amount=50, kind=CreditEntry.Kind.PURCHASE, reference="cs_test_1")
    bobs = [generation_post(bob_client).json() for _ in range(3)]
    alices = generation_post(alice_client).json()

    assert alices["position"] == 1
    assert [bob["position"] for bob in bobs] == [1, 2, 3]
    assert alice_client.get(f"/api/v1/generations/{alices['id']}").json()["position"] == 1
    assert bob_client.get(f"/api/v1/generations/{bobs[0]['id']}").json()["position"] == 2

    worker = gpu_worker_start(tmp_path / "worker.log", "--batch-size", "1")
    try:
        finished = [generation_wait(g["id"], "succeeded") for g in [alices, *bobs]]
    finally:
        worker.stop()
    order = sorted(finished, key=lambda generation: generation.started_at)  # type: ignore[arg-type, return-value]
    assert str(order[0].id) == alices["id"]


def test_generations_lost_from_redis_are_restored_and_complete(
    transactional_db: None,
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    alice_client: Client,
    tmp_path: Path,
) -> None:
    ids = [generation_post(alice_client).json()["id"] for _ in range(3)]
    django_rq.get_connection("default").flushdb()  # as if Redis had restarted empty

    worker = gpu_worker_start(tmp_path / "worker.log", RECONCILE_AFTER_SECONDS="0")
    try:
        generations = [generation_wait(gid, "succeeded", timeout=60) for gid in ids]
    finally:
        worker.stop()

    # Each was put back by the reconciler exactly once and then ran once: nothing was lost, and
    # nothing ran twice (which would have charged the GPU for the same images again).
    output = worker.output()
    for generation in generations:
        assert output.count(f"Generation {generation.id} was missing from its queue") == 1
        assert generation.attempts == 1
    assert output.count("was missing from its queue") == 3
