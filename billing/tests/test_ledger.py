"""Credits are never lost or invented: concurrent spending stops at zero, every change is a
ledger entry, and failed work is refunded exactly once."""

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from accounts.services import account_create
from billing.models import CreditEntry
from billing.selectors import balance_for, ledger_sum_for
from billing.services.credits import credits_refund
from conftest import ARTIFACTS_DIR, PASSWORD
from generation.models import DiffusionModel, Generation
from generation.services import generation_cancel, generation_fail
from rollerai.exceptions import Conflict
from testing.api import generation_post
from testing.processes import gpu_worker_start
from testing.waiting import generation_wait


def test_a_new_account_starts_with_the_signup_credits(db: None) -> None:
    user = account_create(username="dora", password=PASSWORD)

    assert balance_for(user) == 10
    [entry] = CreditEntry.objects.filter(user=user)
    assert (entry.kind, entry.amount) == ("signup_grant", 10)


def test_fifty_concurrent_submissions_for_ten_credits_accept_exactly_ten(
    transactional_db: None, user: User, tiny_model: DiffusionModel, settings: Any
) -> None:
    settings.SUBMISSIONS_PER_MINUTE = 1000
    settings.MAX_ACTIVE_GENERATIONS = 1000
    requests = 50
    start = threading.Barrier(requests, timeout=60)
    responses: list[Any] = []
    lock = threading.Lock()

    def submit() -> None:
        client = Client()
        client.force_login(user)
        # Back to the pool while waiting: fifty threads holding a connection each would be more
        # than one process's pool lends, and all fifty must reach the barrier.
        connection.close()
        start.wait()
        response = generation_post(client)
        with lock:
            responses.append(response)
        connection.close()

    threads = [threading.Thread(target=submit) for _ in range(requests)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began

    statuses = sorted(response.status_code for response in responses)
    accepted = statuses.count(202)
    refused = [r.json()["error"] for r in responses if r.status_code == 402]
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    Path(ARTIFACTS_DIR / "concurrency.txt").write_text(
        f"requests={requests} accepted={accepted} refused_402={len(refused)} "
        f"balance={balance_for(user)} ledger_sum={ledger_sum_for(user)} seconds={seconds:.3f}\n"
    )
    assert accepted == 10
    assert statuses == [202] * 10 + [402] * 40
    assert all(error["code"] == "insufficient_credits" for error in refused)
    assert balance_for(user) == 0
    assert ledger_sum_for(user) == 0
    assert Generation.objects.filter(user=user).count() == 10
    assert CreditEntry.objects.filter(user=user, kind="generation_debit").count() == 10


def test_not_enough_credits_is_402_with_what_it_would_cost(
    alice_client: Client, tiny_model: DiffusionModel
) -> None:
    tiny_model.credits_per_image = 3
    tiny_model.save()

    response = generation_post(alice_client, count=4)

    assert response.status_code == 402
    assert response.json()["error"] == {
        "code": "insufficient_credits",
        "message": "This needs 12 credits; you have 10.",
        "field": None,
    }
    assert not Generation.objects.exists()


def test_a_generation_that_fails_in_the_worker_is_refunded_exactly_once(
    transactional_db: None, alice_client: Client, user: User, tmp_path: Path
) -> None:
    DiffusionModel.objects.create(
        slug="missing", name="Missing", source="/no/such/folder", credits_per_image=2
    )
    worker = gpu_worker_start(tmp_path / "worker.log")
    try:
        response = generation_post(alice_client, model="missing", count=3)
        assert response.status_code == 202
        assert balance_for(user) == 4
        generation = generation_wait(response.json()["id"], "failed")
    finally:
        worker.stop()

    assert balance_for(user) == 10
    # Every other way a refund could be asked for again changes nothing.
    with pytest.raises(Conflict):
        generation_cancel(user=user, generation_id=generation.id)
    assert not generation_fail(generation_id=generation.id, error="again")
    assert not credits_refund(user=user, amount=6, generation_id=generation.id)
    assert balance_for(user) == 10
    assert ledger_sum_for(user) == 10
    refunds = CreditEntry.objects.filter(user=user, kind="generation_refund")
    assert [(entry.amount, entry.reference) for entry in refunds] == [(6, str(generation.id))]
    assert alice_client.get("/api/v1/me").json() == {"username": "alice", "credits": 10}


def test_staff_grant_and_deduct_credits_with_a_reason(
    admin_client: Client, user: User, other_user: User
) -> None:
    def adjust(amount: int, reason: str, *users: User) -> Any:
        return admin_client.post(
            "/admin/auth/user/",
            {
                "action": "adjust_credits",
                "_selected_action": [u.pk for u in users],
                "amount": amount,
                "reason": reason,
                "apply": "1",
            },
            follow=True,
        )

    adjust(5, "Contest prize", user, other_user)
    response = adjust(-12, "Chargeback", user, other_user)

    assert (balance_for(user), balance_for(other_user)) == (3, 3)
    entries = CreditEntry.objects.filter(user=user, kind="staff_adjustment").order_by("id")
    assert [(e.amount, e.note) for e in entries] == [(5, "Contest prize"), (-12, "Chargeback")]
    assert all(entry.created_by and entry.created_by.is_superuser for entry in entries)
    assert ledger_sum_for(user) == balance_for(user)
    # Nobody goes below zero: bob had 15, so the deduction of 12 worked for him too; a larger one
    # is refused and changes nothing.
    refused = adjust(-4, "Too much", user)
    assert "This needs 4 credits; you have 3." in refused.content.decode()
    assert balance_for(user) == 3
    assert response.status_code == 200
