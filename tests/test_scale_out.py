"""Scaling out: two web processes and three GPU workers that share nothing but PostgreSQL,
Redis and storage behave as one site. A page connected to either web process hears about
generations submitted through the other, and every job runs exactly once."""

import time
from pathlib import Path
from typing import Any

import pytest
import requests
from django.contrib.auth.models import User

from accounts.services import api_key_create
from billing.models import CreditEntry
from billing.services.credits import credits_grant
from generation.models import DiffusionModel, Generation
from testing.processes import RunningProcess, gpu_worker_start, site_start
from testing.websocket import LiveSocket

GENERATIONS = 24
FINAL = ("succeeded", "failed", "canceled")


def submit(site: str, key: str) -> str:
    response = requests.post(
        f"{site}/api/v1/generations",
        json={"prompt": "a lighthouse at dawn", "width": 64, "height": 64, "steps": 2},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def final_statuses(socket: LiveSocket, ids: list[str], timeout: float) -> dict[str, str]:
    """Each generation's final status as this socket heard it."""
    final: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while set(final) != set(ids):
        assert time.monotonic() < deadline, f"never heard the end of {set(ids) - set(final)}"
        event: dict[str, Any] = socket.next_event("generation", timeout=60)
        if event["status"] in FINAL:
            final[event["id"]] = event["status"]
    return final


@pytest.mark.django_db(transaction=True)
def test_two_web_processes_and_three_workers_act_as_one_site(
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    user: User,
    tmp_path: Path,
) -> None:
    limits = {
        "SUBMISSIONS_PER_MINUTE": str(GENERATIONS),
        "MAX_ACTIVE_GENERATIONS": str(GENERATIONS),
    }
    credits_grant(
        user=user, amount=GENERATIONS, kind=CreditEntry.Kind.STAFF_ADJUSTMENT, reference="scale"
    )
    _, key = api_key_create(user=user, name="scale")
    processes: list[RunningProcess] = []
    try:
        sites = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            servers, site = site_start(tmp_path / name, env=limits)
            processes += servers
            sites.append(site)
        sockets = [LiveSocket(site, protocols=["bearer", key]) for site in sites]
        workers = []
        for n in range(3):
            workers.append(gpu_worker_start(tmp_path / f"worker-{n}.log", "--name", f"worker-{n}"))
            processes.append(workers[-1])
        # Alternately through each web process, to workers all competing for them.
        ids = [submit(sites[n % 2], key) for n in range(GENERATIONS)]
        heard = [final_statuses(socket, ids, timeout=600) for socket in sockets]
    finally:
        for process in processes:
            process.stop()
    # Read once they have stopped: a worker logs a batch as done after announcing it.
    outputs = [worker.output() for worker in workers]

    # Both pages heard every generation end, whichever web process it was submitted through.
    assert heard[0] == heard[1] == dict.fromkeys(ids, "succeeded")
    # Each ran once: one attempt, on one worker, charged once and never refunded.
    assert sorted(Generation.objects.order_by().values_list("status", "attempts").distinct()) == [
        ("succeeded", 1)
    ]
    done = [line for output in outputs for line in output.splitlines() if " done: " in line]
    assert all(sum(generation_id in line for line in done) == 1 for generation_id in ids), done
    ran_on = Generation.objects.values_list("worker_name", flat=True)
    assert len(set(ran_on)) >= 2, "the work was not shared between workers"
    ledger = CreditEntry.objects.filter(user=user)
    assert ledger.filter(kind=CreditEntry.Kind.GENERATION_DEBIT).count() == GENERATIONS
    assert not ledger.filter(kind=CreditEntry.Kind.GENERATION_REFUND).exists()
