"""/sdapi/v1/progress: the account's current generation as AUTOMATIC1111 describes its job."""

from django.contrib.auth.models import User
from django.utils import timezone

from compat.automatic1111.schemas import Progress, ProgressState
from generation.models import Generation
from generation.previews import preview_latest
from generation.selectors import generation_current_for_user
from generation.standing import generation_standing


def progress_of(user: User, *, with_image: bool) -> Progress:
    current = generation_current_for_user(user=user)
    if current is None:
        return _idle()
    state = ProgressState(
        job=str(current.id),
        job_count=Generation.objects.filter(user=user, status__in=_UNFINISHED).count(),
        job_timestamp=timezone.localtime(current.created_at).strftime("%Y%m%d%H%M%S"),
        sampling_step=current.progress_step,
        sampling_steps=current.steps,
    )
    if current.status == Generation.Status.QUEUED:
        standing = generation_standing(current)
        eta = standing.eta_seconds if standing and standing.eta_seconds is not None else 0
        place = f"#{standing.position} in line" if standing else "In line"
        return Progress(
            progress=0.0, eta_relative=eta, state=state, current_image=None, textinfo=place
        )
    done = current.progress_step / current.steps if current.steps else 0.0
    preview = preview_latest(current.id) if with_image else None
    return Progress(
        progress=done,
        eta_relative=_seconds_left(current, done),
        state=state,
        # A1111 sends the image itself in base64, without the data: URL's prefix.
        current_image=preview.partition(",")[2] if preview else None,
        textinfo=f"Step {current.progress_step} of {current.steps}",
    )


_UNFINISHED = (Generation.Status.QUEUED, Generation.Status.RUNNING)


def _seconds_left(generation: Generation, done: float) -> float:
    """At the pace so far; 0 until a step has been made."""
    if not done or generation.started_at is None:
        return 0.0
    elapsed = (timezone.now() - generation.started_at).total_seconds()
    return max(elapsed / done - elapsed, 0.0)


def _idle() -> Progress:
    state = ProgressState(job_count=0, job_timestamp="0", sampling_step=0, sampling_steps=0)
    return Progress(progress=0.0, eta_relative=0.0, state=state, current_image=None, textinfo=None)
