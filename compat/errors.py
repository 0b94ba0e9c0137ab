"""Refusals both compatible APIs add to the product's own (rollerai.exceptions), and the status
each refusal gets in them."""

from rollerai.api import STATUS_BY_ERROR
from rollerai.exceptions import DomainError


class Misdirected(DomainError):
    """A request that waits for images reached the HTTP server, whose processes serve one
    request at a time; the live server waits on its event loop instead."""

    code = "misdirected"


class WaitedTooLong(DomainError):
    code = "timeout"


class GenerationFailed(DomainError):
    """The generation failed while the request waited (its credits are back)."""

    code = "generation_failed"


class GenerationCancelled(DomainError):
    """The generation was cancelled while the request waited (its credits are back)."""

    code = "generation_cancelled"


class BodyTooLarge(DomainError):
    code = "body_too_large"


STATUSES: dict[type[DomainError], int] = {
    BodyTooLarge: 413,
    Misdirected: 421,
    WaitedTooLong: 504,
    GenerationFailed: 500,
    GenerationCancelled: 409,
    **STATUS_BY_ERROR,
}


def status_of(error: DomainError) -> int:
    return next((status for kind, status in STATUSES.items() if isinstance(error, kind)), 400)
