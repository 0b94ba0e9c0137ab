"""Stripe's webhook: only genuine, fresh deliveries are applied; a paid checkout is credited exactly
once however often or concurrently it is delivered; refunds take the credits back, never below
zero. Events are recorded payloads (stripe_events/), signed here exactly as Stripe signs them."""

import json
import threading
import time
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from pytest_django.fixtures import Settings

from billing.models import CreditEntry, CreditPack, Payment, StripeEvent
from billing.selectors import balance_for, ledger_sum_for
from billing.services.credits import credits_debit
from billing.tests.conftest import WEBHOOK_SECRET
from billing.tests.stripe_stand_in import stripe_event, webhook_post

SESSION_ID = stripe_event("checkout_session_completed_paid")["data"]["object"]["id"]
INVALID_SIGNATURE = {
    "code": "invalid_signature",
    "message": "The Stripe-Signature header does not match this body, secret and time.",
    "field": None,
}


def event_for(name: str, user: User, pack: CreditPack, **fields: Any) -> dict[str, Any]:
    """A recorded checkout event naming this test's user and pack, as our checkout sets them."""
    ours = {"client_reference_id": str(user.pk), "metadata": {"pack_id": str(pack.pk)}}
    return stripe_event(name, **{**ours, **fields})


def deliver(event: dict[str, Any], **options: Any) -> Any:
    return webhook_post(Client(), event, secret=WEBHOOK_SECRET, **options)


def purchases(user: User) -> list[tuple[int, str]]:
    entries = CreditEntry.objects.filter(user=user, kind="purchase")
    return [(entry.amount, entry.reference) for entry in entries]


def nothing_was_written(user: User) -> bool:
    return (
        balance_for(user) == 10
        and not CreditEntry.objects.exclude(kind="signup_grant").exists()
        and not Payment.objects.exists()
        and not StripeEvent.objects.exists()
    )


def test_a_paid_checkout_credits_the_pack(
    user: User, pack: CreditPack, webhook_secret: str
) -> None:
    response = deliver(event_for("checkout_session_completed_paid", user, pack))

    assert response.status_code == 200
    assert response.json() == {
        "received": True,
        "outcome": f"credited 250 credits to user {user.pk}",
    }
    assert balance_for(user) == 260
    assert ledger_sum_for(user) == 260
    assert purchases(user) == [(250, SESSION_ID)]
    payment = Payment.objects.get()
    assert (payment.user, payment.pack, payment.status) == (user, pack, "paid")
    assert (payment.amount, payment.currency, payment.credits) == (2000, "usd", 250)
    assert payment.stripe_payment_intent_id == "pi_3QfT2xLkR8vN0mZa1cD4eF6g"
    assert payment.paid_at is not None
    event = StripeEvent.objects.get()
    assert (event.event_id, event.type) == (
        "evt_1QfT3aLkR8vN0mZaPaid0001",
        "checkout.session.completed",
    )


def test_the_same_event_delivered_five_times_credits_once(
    user: User, pack: CreditPack, webhook_secret: str
) -> None:
    event = event_for("checkout_session_completed_paid", user, pack)

    responses = [deliver(event) for _ in range(5)]

    assert [response.status_code for response in responses] == [200] * 5
    assert [response.json()["outcome"] for response in responses[1:]] == [
        "duplicate: this event was already processed"
    ] * 4
    assert balance_for(user) == 260
    assert purchases(user) == [(250, SESSION_ID)]
    assert StripeEvent.objects.count() == 1


def test_five_concurrent_deliveries_of_one_event_credit_once(
    transactional_db: None, user: User, pack: CreditPack, webhook_secret: str
) -> None:
    event = event_for("checkout_session_completed_paid", user, pack)
    deliveries = 5
    start = threading.Barrier(deliveries)
    statuses: list[int] = []
    lock = threading.Lock()

    def deliver_at_once() -> None:
        start.wait()
        response = deliver(event)
        with lock:
            statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=deliver_at_once) for _ in range(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * deliveries
    assert balance_for(user) == 260
    assert ledger_sum_for(user) == 260
    assert purchases(user) == [(250, SESSION_ID)]
    assert Payment.objects.get().status == "paid"


def test_two_different_events_for_one_checkout_credit_once(
    user: User, pack: CreditPack, webhook_secret: str
) -> None:
    completed = deliver(event_for("checkout_session_completed_paid", user, pack))
    succeeded = deliver(event_for("checkout_session_async_payment_succeeded", user, pack))

    assert (completed.status_code, succeeded.status_code) == (200, 200)
    assert succeeded.json()["outcome"] == (
        "already credited: this checkout session was credited before"
    )
    assert balance_for(user) == 260
    assert purchases(user) == [(250, SESSION_ID)]
    assert StripeEvent.objects.count() == 2


def test_a_tampered_body_is_refused_and_changes_nothing(
    user: User, pack: CreditPack, webhook_secret: str
) -> None:
    event = event_for("checkout_session_completed_paid", user, pack)
    tampered = json.dumps(
        {**event, "data": {"object": {**event["data"]["object"], "amount_total": 1}}}, indent=2
    ).encode()

    response = deliver(event, body=tampered)

    assert response.status_code == 400
    assert response.json()["error"] == INVALID_SIGNATURE
    assert nothing_was_written(user)


def test_a_signature_made_with_another_secret_is_refused(
    user: User, pack: CreditPack, webhook_secret: str
) -> None:
    event = event_for("checkout_session_completed_paid", user, pack)

    response = webhook_post(Client(), event, secret="whsec_SomebodyElsesSecret")

    assert response.status_code == 400
    assert response.json()["error"] == INVALID_SIGNATURE
    assert nothing_was_written(user)


def test_a_delivery_signed_outside_the_tolerance_is_refused(
    user: User, pack: CreditPack, webhook_secret: str, settings: Settings
) -> None:
    settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
    event = event_for("checkout_session_completed_paid", user, pack)

    stale = deliver(event, timestamp=int(time.time()) - 301)

    assert stale.status_code == 400
    assert stale.json()["error"] == INVALID_SIGNATURE
    assert nothing_was_written(user)
    # The same event, signed now, is accepted: only the age was wrong.
    assert deliver(event, timestamp=int(time.time()) - 5).status_code == 200
    assert balance_for(user) == 260


def test_a_delivery_without_a_signature_is_refused(
    user: User, pack: CreditPack, webhook_secret: str
) -> None:
    payload = json.dumps(event_for("checkout_session_completed_paid", user, pack))

    response = Client().post(
        "/billing/stripe/webhook/", data=payload, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == INVALID_SIGNATURE
    assert nothing_was_written(user)


def test_a_signed_body_that_is_not_an_event_is_refused(user: User, webhook_secret: str) -> None:
    response = deliver({"object": "event"}, body=None)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_event"
    assert nothing_was_written(user)


def test_without_a_webhook_secret_the_endpoint_refuses_with_503(
    user: User, pack: CreditPack, settings: Settings
) -> None:
    settings.STRIPE_WEBHOOK_SECRET = ""

    response = deliver(event_for("checkout_session_completed_paid", user, pack))

    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "webhook_not_configured",
        "message": "The Stripe webhook is not configured on this site.",
        "field": None,
    }
    assert nothing_was_written(user)


def test_the_webhook_accepts_only_post(webhook_secret: str) -> None:
    response = Client().get("/billing/stripe/webhook/")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_an_oversized_body_is_refused_with_413(
    user: User, webhook_secret: str, settings: Settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    event = stripe_event("customer_created", description="x" * 70_000)

    response = deliver(event)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert not StripeEvent.objects.exists()


def test_an_unknown_event_type_is_acknowledged_and_ignored(user: User, webhook_secret: str) -> None:
    response = deliver(stripe_event("customer_created"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored: not an event type we act on"
    assert StripeEvent.objects.get().type == "customer.created"
    assert balance_for(user) == 10


def test_a_checkout_for_an_unknown_user_or_pack_is_recorded_and_credits_nobody(
    user: User, pack: CreditPack, webhook_secret: str
) -> None:
    unknown_user = stripe_event(
        "checkout_session_completed_paid",
        client_reference_id="999999",
        metadata={"pack_id": str(pack.pk)},
    )
    unknown_pack = event_for(
        "checkout_session_async_payment_succeeded", user, pack, metadata={"pack_id": "999999"}
    )

    responses = [deliver(unknown_user), deliver(unknown_pack)]

    assert [response.status_code for response in responses] == [200, 200]
    assert {response.json()["outcome"] for response in responses} == {
        "ignored: unknown checkout session, user or pack"
    }
    assert StripeEvent.objects.count() == 2
    assert not Payment.objects.exists()
    assert balance_for(user) == 10


def test_an_unpaid_checkout_credits_only_when_the_payment_succeeds(
    user: User, pack: CreditPack, webhook_secret: str
) -> None:
    completed = deliver(event_for("checkout_session_completed_unpaid", user, pack))

    assert completed.status_code == 200
    assert completed.json()["outcome"] == "waiting: the payment has not cleared yet"
    assert balance_for(user) == 10
    assert Payment.objects.get().status == "processing"

    succeeded = deliver(event_for("checkout_session_async_payment_succeeded", user, pack))

    assert succeeded.status_code == 200
    assert balance_for(user) == 260
    assert purchases(user) == [(250, SESSION_ID)]
    assert Payment.objects.get().status == "paid"


def test_a_failed_asynchronous_payment_credits_nothing(
    user: User, pack: CreditPack, webhook_secret: str
) -> None:
    deliver(event_for("checkout_session_completed_unpaid", user, pack))

    failed = deliver(event_for("checkout_session_async_payment_failed", user, pack))

    assert failed.status_code == 200
    assert failed.json()["outcome"] == "payment failed: status failed"
    assert balance_for(user) == 10
    assert not purchases(user)
    assert Payment.objects.get().status == "failed"


def test_an_abandoned_checkout_is_marked_expired(
    user: User, pack: CreditPack, webhook_secret: str
) -> None:
    response = deliver(event_for("checkout_session_expired", user, pack))

    assert response.status_code == 200
    assert Payment.objects.get().status == "expired"
    assert balance_for(user) == 10


def test_refunds_take_back_credits_in_proportion_and_only_once(
    user: User, pack: CreditPack, webhook_secret: str
) -> None:
    deliver(event_for("checkout_session_completed_paid", user, pack))
    assert balance_for(user) == 260

    # Half of the 20.00 USD back: half of the 250 credits go.
    partly = [deliver(stripe_event("charge_refunded_partly")) for _ in range(2)]

    assert [response.status_code for response in partly] == [200, 200]
    assert partly[0].json()["outcome"] == "deducted 125 of 125 credits for the refund"
    assert partly[1].json()["outcome"] == "duplicate: this event was already processed"
    assert balance_for(user) == 135
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_refunded, payment.credits_deducted) == (
        "partially_refunded",
        1000,
        125,
    )

    fully = deliver(stripe_event("charge_refunded_fully"))

    assert fully.status_code == 200
    assert balance_for(user) == 10
    assert ledger_sum_for(user) == 10
    refunds = CreditEntry.objects.filter(user=user, kind="purchase_refund").order_by("id")
    assert [(entry.amount, entry.reference) for entry in refunds] == [
        (-125, "ch_3QfT2xLkR8vN0mZa1hJ2kL3m:1000"),
        (-125, "ch_3QfT2xLkR8vN0mZa1hJ2kL3m:2000"),
    ]
    payment.refresh_from_db()
    assert (payment.status, payment.credits_deducted, payment.credits_not_deducted) == (
        "refunded",
        250,
        0,
    )
    # A late, older refund event asks for nothing new.
    older = stripe_event("charge_refunded_partly")
    older["id"] = "evt_3QfT2xLkR8vN0mZa1Rfd0099"
    assert deliver(older).json()["outcome"] == "already deducted: nothing more was refunded"
    assert balance_for(user) == 10


def test_a_refund_never_takes_the_balance_below_zero_and_records_the_rest(
    user: User, pack: CreditPack, webhook_secret: str
) -> None:
    deliver(event_for("checkout_session_completed_paid", user, pack))
    credits_debit(user=user, amount=200, reference="spent-on-images")
    assert balance_for(user) == 60

    response = deliver(stripe_event("charge_refunded_fully"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "deducted 60 of 250 credits for the refund"
    assert balance_for(user) == 0
    assert ledger_sum_for(user) == 0
    payment = Payment.objects.get()
    assert (payment.status, payment.credits_deducted, payment.credits_not_deducted) == (
        "refunded",
        60,
        190,
    )


def test_a_refund_for_an_unknown_charge_is_acknowledged(user: User, webhook_secret: str) -> None:
    response = deliver(stripe_event("charge_refunded_fully"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored: no payment for this charge"
    assert balance_for(user) == 10


def test_a_checkout_started_on_the_site_is_credited_with_what_was_sold(
    alice_client: Client, user: User, pack: CreditPack, webhook_secret: str, stripe_api: Any
) -> None:
    started = alice_client.post("/billing/checkout/", {"pack": pack.pk})
    session_id = Payment.objects.get().stripe_checkout_session_id
    # Staff change the pack while the buyer pays: the buyer gets what they were offered.
    pack.credits = 300
    pack.save()

    # Found by its session id alone: the Payment made at checkout says who bought what.
    response = deliver(
        stripe_event(
            "checkout_session_completed_paid", id=session_id, client_reference_id=None, metadata={}
        )
    )

    assert started.status_code == 303
    assert response.status_code == 200
    assert balance_for(user) == 260
    assert purchases(user) == [(250, session_id)]
    assert Payment.objects.get().status == "paid"
