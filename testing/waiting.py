"""Waiting for what other processes do to a generation."""

import time

from generation.models import Generation


def generation_wait(generation_id: object, *statuses: str, timeout: float = 60.0) -> Generation:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation = Generation.objects.get(id=generation_id)
        if generation.status in statuses:
            return generation
        time.sleep(0.05)
    raise AssertionError(
        f"Generation stayed {generation.status!r}, expected one of {statuses} "
        f"(error: {generation.error!r})"
    )
