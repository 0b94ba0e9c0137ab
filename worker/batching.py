"""Finding waiting generations that can share one pipeline call with the one a worker took."""

from generation.models import Generation
from generation.queues import queued_job_ids
from generation.services import generation_start_from_queue

# How far down the queue to look for companions.
LOOKAHEAD = 64


def batch_collect(*, first: Generation, max_images: int, worker_name: str) -> list[Generation]:
    """Claim queued generations that match `first` in model, size, steps and guidance, up to
    `max_images` images in all, each taken off its queue as it is claimed."""
    images = first.count
    if images >= max_images:
        return []
    job_ids = queued_job_ids(first.model, high_priority_only=first.high_priority)[:LOOKAHEAD]
    companions = {
        str(generation.id): generation
        for generation in Generation.objects.filter(
            id__in=job_ids,
            status=Generation.Status.QUEUED,
            model_id=first.model_id,
            high_priority=first.high_priority,
            width=first.width,
            height=first.height,
            steps=first.steps,
            guidance=first.guidance,
        ).select_related("model")
    }
    batch: list[Generation] = []
    for job_id in job_ids:
        companion = companions.get(job_id)
        if companion is None or images + companion.count > max_images:
            continue
        claimed = generation_start_from_queue(generation=companion, worker_name=worker_name)
        if claimed is None:
            continue  # another worker took it first
        batch.append(claimed)
        images += claimed.count
        if images >= max_images:
            break
    return batch
