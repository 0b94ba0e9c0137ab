"""Stripe's webhook events, verified and applied exactly once: paid checkouts become purchase
credits, failed and abandoned ones are recorded, refunds take the credits back.

Stripe delivers each event at least once, sometimes twice at the same moment, and in no
guaranteed order. Two database constraints make that safe: an event id is recorded once
(StripeEvent), and a checkout session is credited once (the ledger's unique kind + reference).
"""

import logging
from collections.abc import Callable
from typing import Any

import stripe
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import CreditEntry, CreditPack, Payment, StripeEvent, money_display
from billing.services.credits import credits_debit, credits_grant, credits_lock
from rollerai.exceptions import InvalidRequest, Unavailable
from rollerai.request_input import json_parse

log = logging.getLogger(__name__)

Status = Payment.Status
StripeObject = dict[str, Any]


def stripe_webhook_receive(*, payload: bytes, signature: str) -> str:
    """Verify one delivery and apply its event. Returns what was done, for the log and the
    response; raises InvalidRequest (nothing written) when the delivery is not genuine."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise Unavailable(
            "The Stripe webhook is not configured on this site.", code="webhook_not_configured"
        )
    try:
        stripe.WebhookSignature.verify_header(
            payload,
            signature,
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
        )
    except stripe.SignatureVerificationError as error:
        log.warning("Refused a Stripe webhook delivery: %s", error)
        raise InvalidRequest(
            "The Stripe-Signature header does not match this body, secret and time.",
            code="invalid_signature",
        )
    except ValueError:
        raise InvalidRequest("The body is not a Stripe event.", code="malformed_event")
    # Parsed by the same guard as every other JSON body (deep nesting, NUL, lone surrogates),
    # not by the SDK: a genuinely signed body can still be one the database cannot store.
    values = json_parse(payload)
    if not isinstance(values, dict):
        raise InvalidRequest("The body is not a Stripe event.", code="malformed_event")
    event_id, event_type = values.get("id"), values.get("type")
    data_object = (values.get("data") or {}).get("object")
    if not (isinstance(event_id, str) and isinstance(event_type, str)):
        raise InvalidRequest("The body is not a Stripe event.", code="malformed_event")
    return stripe_event_apply(
        event_id=event_id,
        event_type=event_type,
        data_object=data_object if isinstance(data_object, dict) else {},
        livemode=bool(values.get("livemode")),
    )


@transaction.atomic
def stripe_event_apply(
    *, event_id: str, event_type: str, data_object: StripeObject, livemode: bool
) -> str:
    """Apply a verified event once. The event's record and its effects commit together, so an
    event whose handling fails is not marked as processed and Stripe's retry applies it."""
    try:
        # A concurrent delivery of the same event waits here on the unique index until the
        # first one commits, then fails and changes nothing.
        with transaction.atomic():
            record = StripeEvent.objects.create(
                event_id=event_id, type=event_type, livemode=livemode
            )
    except IntegrityError:
        return "duplicate: this event was already processed"
    handler = EVENT_HANDLERS.get(event_type)
    outcome = handler(data_object) if handler else "ignored: not an event type we act on"
    record.outcome = outcome[:200]
    record.save(update_fields=["outcome"])
    log.info("Stripe event %s (%s): %s", event_id, event_type, outcome)
    return outcome


def _id_from(value: object) -> int:
    """A database id from Stripe's strings (client_reference_id, metadata); 0 matches none."""
    text = str(value) if value is not None else ""
    # ASCII and short: int() of other digits fails, and bigger numbers overflow the column.
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else 0


def _payment_for_session(session: StripeObject) -> Payment | None:
    """The session's Payment, locked for this transaction. A session that began elsewhere (or
    whose Payment was never saved) gets one from the user and pack it names; None when it names
    none we know."""
    session_id = session.get("id")
    if not isinstance(session_id, str) or not session_id:
        return None
    locked = Payment.objects.select_for_update()
    if found := locked.filter(stripe_checkout_session_id=session_id).first():
        return found
    user = User.objects.filter(pk=_id_from(session.get("client_reference_id"))).first()
    pack_id = _id_from((session.get("metadata") or {}).get("pack_id"))
    pack = CreditPack.objects.filter(pk=pack_id).first()
    if user is None or pack is None:
        log.warning(
            "Stripe checkout session %s names an unknown user (%r) or pack (%r)",
            session_id,
            session.get("client_reference_id"),
            (session.get("metadata") or {}).get("pack_id"),
        )
        return None
    payment, _ = locked.get_or_create(
        stripe_checkout_session_id=session_id,
        defaults={
            "user": user,
            "pack": pack,
            "credits": pack.credits,
            "amount": session.get("amount_total") or pack.price_cents,
            "currency": str(session.get("currency") or pack.currency).lower(),
        },
    )
    return payment


def _payment_details_update(payment: Payment, session: StripeObject) -> None:
    """What Stripe knows best: the amount actually charged and the payment intent (which
    refunds refer to)."""
    if isinstance(session.get("payment_intent"), str):
        payment.stripe_payment_intent_id = session["payment_intent"]
    if isinstance(session.get("amount_total"), int):
        payment.amount = session["amount_total"]


def _session_completed(session: StripeObject) -> str:
    """`checkout.session.completed` and `checkout.session.async_payment_succeeded`: credit the
    pack if the money is there; otherwise wait for the asynchronous payment's outcome."""
    payment = _payment_for_session(session)
    if payment is None or payment.user is None:
        return "ignored: unknown checkout session, user or pack"
    _payment_details_update(payment, session)
    if session.get("payment_status") != "paid":
        if payment.status == Status.PENDING:
            payment.status = Status.PROCESSING
        payment.save()
        return "waiting: the payment has not cleared yet"
    try:
        with transaction.atomic():
            credits_grant(
                user=payment.user,
                amount=payment.credits,
                kind=CreditEntry.Kind.PURCHASE,
                reference=payment.stripe_checkout_session_id,
                note=f"{payment.pack.name if payment.pack else 'Credit pack'}, "
                f"{payment.amount_display}",
            )
        granted = True
    except IntegrityError:
        granted = False
    if payment.status in (Status.PENDING, Status.PROCESSING, Status.FAILED, Status.EXPIRED):
        payment.status = Status.PAID
        payment.paid_at = timezone.now()
    payment.checkout_url = ""
    payment.save()
    if not granted:
        return "already credited: this checkout session was credited before"
    return f"credited {payment.credits} credits to user {payment.user.pk}"


def _session_failed(session: StripeObject) -> str:
    """`checkout.session.async_payment_failed`: the bank said no; nothing was credited."""
    payment = _payment_for_session(session)
    if payment is None:
        return "ignored: unknown checkout session, user or pack"
    _payment_details_update(payment, session)
    if payment.status in (Status.PENDING, Status.PROCESSING):
        payment.status = Status.FAILED
    payment.checkout_url = ""
    payment.save()
    return f"payment failed: status {payment.status}"


def _session_expired(session: StripeObject) -> str:
    """`checkout.session.expired`: the buyer never paid; the page can't be used any more."""
    payment = _payment_for_session(session)
    if payment is None:
        return "ignored: unknown checkout session, user or pack"
    if payment.status == Status.PENDING:
        payment.status = Status.EXPIRED
    payment.checkout_url = ""
    payment.save()
    return f"checkout expired: status {payment.status}"


def _charge_refunded(charge: StripeObject) -> str:
    """`charge.refunded`: take back credits in proportion to the money refunded so far, as many
    as the buyer still has. What they already spent is recorded on the payment, not owed."""
    payment_intent = charge.get("payment_intent")
    payment = (
        Payment.objects.select_for_update().filter(stripe_payment_intent_id=payment_intent).first()
        if isinstance(payment_intent, str) and payment_intent
        else None
    )
    if payment is None or payment.user is None:
        log.warning("Stripe refunded charge %s that matches no payment here", charge.get("id"))
        return "ignored: no payment for this charge"
    if payment.status not in (Status.PAID, Status.PARTIALLY_REFUNDED, Status.REFUNDED):
        log.warning("Stripe refunded payment %s before its credits were granted", payment.pk)
        return f"ignored: the payment is {payment.status}, no credits to take back"
    charged = charge.get("amount")
    refunded = charge.get("amount_refunded")
    if not (isinstance(charged, int) and isinstance(refunded, int) and charged > 0):
        log.warning("Stripe charge %s has no usable amounts", charge.get("id"))
        return "ignored: the charge has no amounts"
    # Each charge.refunded event carries the total refunded so far, so a repeated or older
    # event asks for nothing new.
    if refunded <= payment.amount_refunded:
        return "already deducted: nothing more was refunded"
    owed_in_total = min(refunded, charged) * payment.credits // charged
    owed_now = owed_in_total - payment.credits_deducted - payment.credits_not_deducted
    taken = 0
    if owed_now > 0:
        # Locked, so a generation can't spend the credits between reading and deducting them.
        balance = credits_lock(user=payment.user)
        taken = min(owed_now, balance)
        if taken:
            credits_debit(
                user=payment.user,
                amount=taken,
                kind=CreditEntry.Kind.PURCHASE_REFUND,
                reference=f"{charge.get('id')}:{refunded}",
                note=f"Refund of {money_display(refunded, payment.currency)}",
            )
    payment.amount_refunded = refunded
    payment.credits_deducted += taken
    payment.credits_not_deducted += max(owed_now, 0) - taken
    payment.status = Status.REFUNDED if refunded >= charged else Status.PARTIALLY_REFUNDED
    payment.refunded_at = timezone.now()
    payment.save()
    return f"deducted {taken} of {max(owed_now, 0)} credits for the refund"


EVENT_HANDLERS: dict[str, Callable[[StripeObject], str]] = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_completed,
    "checkout.session.async_payment_failed": _session_failed,
    "checkout.session.expired": _session_expired,
    "charge.refunded": _charge_refunded,
}
