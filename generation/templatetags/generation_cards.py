"""What a generation card says under its progress bar on first paint, in the words the live
page script (static/js/generate.js) uses for the same events, so a reload changes nothing."""

import math

from django import template

from generation.models import Generation
from generation.standing import Standing, generation_standing

register = template.Library()

# The marks a failure reason may already end with, so that no second full stop is added.
SENTENCE_ENDS = (".", "!", "?")


def duration(seconds: int) -> str:
    # Seconds up to two minutes: "about 2 min" for 90 s would promise too little.
    if seconds < 120:
        return f"{seconds} s"
    return f"{math.floor(seconds / 60 + 0.5)} min"


def queue_text(standing: Standing | None) -> str:
    if standing is None:
        return "Waiting in the queue"
    place = f"Position {standing.position or '?'}"
    eta = f" · ready in about {duration(standing.eta_seconds)}" if standing.eta_seconds else ""
    if standing.waiting_for_worker and standing.gpu_starting_seconds is not None:
        soon = (
            f"about {duration(standing.gpu_starting_seconds)}"
            if standing.gpu_starting_seconds > 0
            else "any moment now"
        )
        return f"{place}: starting a GPU, {soon}{eta}"
    if standing.waiting_for_worker:
        return f"{place}: waiting for a GPU to start"
    if not standing.position:
        return "Waiting in the queue"
    busy = " · every GPU is busy" if standing.at_max else ""
    return f"{place} in the queue{busy}{eta}"


def credits_back(credits: int) -> str:
    return f"{credits} credit{'' if credits == 1 else 's'} came back"


def ended_text(generation: Generation) -> str:
    """A cancelled or failed generation was refunded what it cost (generation_end refunds its
    credits_charged, once, through the ledger)."""
    credits = generation.credits_charged
    if generation.status == Generation.Status.CANCELED:
        return f"Cancelled: your {credits_back(credits)}." if credits else "Cancelled."
    reason = (generation.error or "something went wrong").strip()
    if not reason.endswith(SENTENCE_ENDS):
        reason += "."
    return f"Failed: {reason} Your {credits_back(credits)}." if credits else f"Failed: {reason}"


@register.simple_tag
def card_state(generation: Generation) -> str:
    """The card's state line: place in line and ETA, the step it is on, or how it ended."""
    if generation.status == Generation.Status.QUEUED:
        return queue_text(generation_standing(generation))
    if generation.status == Generation.Status.RUNNING:
        return f"Step {generation.progress_step} of {generation.steps}"
    if generation.status in (Generation.Status.FAILED, Generation.Status.CANCELED):
        return ended_text(generation)
    return ""
