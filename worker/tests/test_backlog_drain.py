"""Draining a long backlog with two workers, the reconciler running all the while: no
generation is put back on its queue, each runs once, and the last event a websocket client
hears about each one is its final status."""

import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.services import api_key_create
from billing.models import CreditEntry
from billing.services.credits import credits_grant
from generation.models import DiffusionModel, Generation
from testing.api import generation_submitted
from testing.processes import gpu_worker_start
from testing.websocket import LiveSocket

BACKLOG = 400


def submit_backlog(client: Client) -> list[str]:
    return [generation_submitted(client, width=64, height=64, steps=2) for _ in range(BACKLOG)]


def last_events(socket: LiveSocket, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    """The last event heard about each generation, once every one has had a final one."""
    last: dict[str, dict[str, Any]] = {}
    finished: set[str] = set()
    deadline = time.monotonic() + timeout
    while len(finished) < len(ids):
        assert time.monotonic() < deadline, f"{len(ids) - len(finished)} never finished"
        event = socket.next_event("generation", timeout=30)
        last[event["id"]] = event
        if event["status"] in ("succeeded", "failed", "canceled"):
            finished.add(event["id"])
    # Anything still on its way (a late "queued" from a stale snapshot, say) arrives by now.
    time.sleep(3)
    while not socket.messages.empty():
        event = socket.messages.get()
        if event.get("type") == "generation":
            last[event["id"]] = event
    return last


@pytest.mark.django_db(transaction=True)
def test_two_workers_drain_a_backlog_each_job_once_and_the_last_event_is_final(
    tiny_model: DiffusionModel,
    tiny_model_folder: Path,
    web_server: str,
    alice_client: Client,
    user: User,
    settings: Settings,
    tmp_path: Path,
) -> None:
    settings.SUBMISSIONS_PER_MINUTE = settings.MAX_ACTIVE_GENERATIONS = BACKLOG
    credits_grant(
        user=user, amount=BACKLOG, kind=CreditEntry.Kind.STAFF_ADJUSTMENT, reference="drain"
    )
    _, key = api_key_create(user=user, name="drain")
    socket = LiveSocket(web_server, protocols=["bearer", key])
    ids = submit_backlog(alice_client)
    # The reconciler looks at every queued generation, however new, every few seconds.
    workers = [
        gpu_worker_start(tmp_path / f"{name}.log", "--name", name, RECONCILE_AFTER_SECONDS="0")
        for name in ("worker-a", "worker-b")
    ]
    try:
        last = last_events(socket, ids, timeout=600)
    finally:
        outputs = [worker.output() for worker in workers]
        for worker in workers:
            worker.stop()
        socket.close()

    assert not [output for output in outputs if "missing from its queue" in output]
    assert not [output for output in outputs if "no longer queued" in output]
    assert sorted(Generation.objects.order_by().values_list("status", "attempts").distinct()) == [
        ("succeeded", 1)
    ]
    assert {event["status"] for event in last.values()} == {"succeeded"}
    assert set(last) == set(ids)
