"""Asking for a generation: validating the request, charging for it in the same transaction
that records it, and putting it in line once that is committed.

While Redis is down a submit is refused (503) before anything is written or charged: the rate
limit, the first thing that asks Redis, says so. If Redis goes away after that, between the
charge and the enqueue, the generation is failed and refunded and the submit is refused too."""

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from billing.models import CreditEntry
from billing.services.credits import credits_debit, credits_lock
from generation.models import Generation
from generation.schemas import GenerationRequest, UpscaleRequest, VariationsRequest
from generation.services.transitions import ACTIVE, generation_line_up
from generation.validation import (
    CheckedRequest,
    generation_request_validate,
    upscale_request_validate,
    variations_request_validate,
)
from rollerai.exceptions import Conflict, InvalidRequest, RateLimited, Unavailable
from rollerai.ratelimit import rate_limit_hit
from rollerai.request_input import text_check

MAX_IDEMPOTENCY_KEY_LENGTH = 100


def _fingerprint(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _generation_for_idempotency_key(*, user: User, key: str, fingerprint: str) -> Generation | None:
    generation = Generation.objects.filter(user=user, idempotency_key=key).first()
    if generation is not None and generation.request_fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used for a different request.",
            code="idempotency_key_reused",
        )
    return generation


def generation_submit(
    *,
    user: User,
    data: GenerationRequest,
    idempotency_key: str = "",
    origin: str = Generation.Origin.WEB,
) -> Generation:
    """Validate a request, charge for it and put it on its model's queue.

    With an idempotency key, a retry of the same request returns the generation the first one
    made, charged once. The origin (a Generation.Origin) records which front door it came in by.
    """
    return _submit(
        user=user,
        validate=lambda: generation_request_validate(data, user=user),
        # What the client sent, as it was parsed: a retry of the same body has the same
        # fingerprint.
        asked=data.model_dump(mode="json", exclude_unset=True),
        idempotency_key=idempotency_key,
        origin=origin,
    )


def generation_variations_submit(
    *,
    user: User,
    generation_id: UUID,
    data: VariationsRequest,
    idempotency_key: str = "",
    origin: str = Generation.Origin.WEB,
    shown_by: User | None = None,
) -> Generation:
    """New images like one of the user's own (or a public) generation's images, charged at its
    model's image-to-image price. With `shown_by`, the image may be one of that user's instead:
    they showed it to this user elsewhere (posted it in a Discord channel)."""
    return _submit(
        user=user,
        validate=lambda: variations_request_validate(
            user=shown_by or user, generation_id=generation_id, index=data.index, count=data.count
        ),
        asked={"variations_of": str(generation_id), **data.model_dump(mode="json")},
        idempotency_key=idempotency_key,
        origin=origin,
    )


def generation_upscale_submit(
    *,
    user: User,
    generation_id: UUID,
    data: UpscaleRequest,
    idempotency_key: str = "",
    origin: str = Generation.Origin.WEB,
) -> Generation:
    """One of the user's own (or a public) generation's images made again at twice the size,
    charged at its model's upscale price."""
    return _submit(
        user=user,
        validate=lambda: upscale_request_validate(
            user=user, generation_id=generation_id, index=data.index
        ),
        asked={"upscale_of": str(generation_id), **data.model_dump(mode="json")},
        idempotency_key=idempotency_key,
        origin=origin,
    )


def _submit(
    *,
    user: User,
    validate: Callable[[], CheckedRequest],
    asked: dict[str, Any],
    idempotency_key: str,
    origin: str,
) -> Generation:
    _idempotency_key_check(idempotency_key)
    request = validate()
    fingerprint = _fingerprint(asked) if idempotency_key else ""
    if idempotency_key:
        existing = _generation_for_idempotency_key(
            user=user, key=idempotency_key, fingerprint=fingerprint
        )
        if existing is not None:
            return existing
    # Also the check that Redis answers, before anything is charged (Unavailable if not).
    rate_limit_hit(
        scope="submit",
        who=str(user.pk),
        limit=settings.SUBMISSIONS_PER_MINUTE,
        window_seconds=60,
        message=f"You can start at most {settings.SUBMISSIONS_PER_MINUTE} generations a minute.",
    )
    try:
        generation = _generation_charge_and_record(
            user=user,
            request=request,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            origin=origin,
        )
    except IntegrityError:
        # Two requests with the same key raced and the other one created the generation; its
        # transaction, and so its charge, is the only one that counts.
        winner = idempotency_key and _generation_for_idempotency_key(
            user=user, key=idempotency_key, fingerprint=fingerprint
        )
        if not winner:
            raise
        return winner
    if generation.status == Generation.Status.FAILED:
        _refuse_unqueued(generation)
    return generation


def _idempotency_key_check(idempotency_key: str) -> None:
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidRequest(
            f"An Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters.",
            code="invalid_idempotency_key",
        )
    text_check(idempotency_key, field="Idempotency-Key")


@transaction.atomic
def _generation_charge_and_record(
    *, user: User, request: CheckedRequest, idempotency_key: str, fingerprint: str, origin: str
) -> Generation:
    """In one transaction: debit the credits and record the queued generation; it is put in
    line once committed (only a committed generation may reach a worker, which would not find
    it otherwise)."""
    # Locking the balance serialises one user's submissions, so the limit on active
    # generations below cannot be raced past.
    credits_lock(user=user)
    # Counting stops at the limit: a user's own backlog never makes a submit slower.
    limit = settings.MAX_ACTIVE_GENERATIONS
    if Generation.objects.filter(user=user, status__in=ACTIVE).values("id")[:limit].count() >= (
        limit
    ):
        raise RateLimited(
            f"You already have {limit} generations waiting or "
            "running. Start more when one of them is done.",
            retry_after=10,
        )
    cost = request.cost
    generation_id = uuid.uuid4()
    credits_debit(user=user, amount=cost, reference=str(generation_id))
    init_image = _init_image_store(generation_id, request.init_png)
    try:
        generation = _generation_record(
            generation_id=generation_id,
            user=user,
            request=request,
            cost=cost,
            init_image=init_image,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            origin=origin,
        )
    except BaseException:
        # Nothing else will ever point at it.
        if init_image:
            default_storage.delete(init_image)
        raise
    transaction.on_commit(lambda: generation_line_up(generation))
    return generation


def _init_image_store(generation_id: uuid.UUID, png: bytes | None) -> str:
    """Where the init image the server made is stored for the worker; "" without one."""
    if png is None:
        return ""
    return default_storage.save(f"init-images/{generation_id}.png", ContentFile(png))


def _generation_record(
    *,
    generation_id: uuid.UUID,
    user: User,
    request: CheckedRequest,
    cost: int,
    init_image: str,
    idempotency_key: str,
    fingerprint: str,
    origin: str,
) -> Generation:
    return Generation.objects.create(
        id=generation_id,
        user=user,
        model=request.model,
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        width=request.width,
        height=request.height,
        steps=request.steps,
        guidance=request.guidance,
        seed=request.seed,
        count=request.count,
        kind=request.kind,
        sampler=request.sampler,
        strength=request.strength,
        init_image=init_image,
        source_image=request.source_image,
        credits_charged=cost,
        high_priority=_gets_priority(user),
        origin=origin,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )


def _refuse_unqueued(generation: Generation) -> None:
    """The generation could not be put in line after it was charged (Redis went away in
    between); it has been failed and refunded. Its Idempotency-Key is let go, so that retrying
    the same request later makes a new generation instead of returning this failed one."""
    if generation.idempotency_key:
        Generation.objects.filter(id=generation.id).update(idempotency_key="")
    credits = generation.credits_charged
    raise Unavailable(
        "The job queue became unreachable before your generation could start, so it was not "
        f"started and its {credits} credit{'' if credits == 1 else 's'} went back to your "
        "balance. Please try again in a minute.",
        code="service_unavailable",
    )


def _gets_priority(user: User) -> bool:
    return settings.PRIORITY_FOR_PAYING_USERS and (
        CreditEntry.objects.filter(user=user, kind=CreditEntry.Kind.PURCHASE).exists()
    )
