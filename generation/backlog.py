"""The work waiting for a set of models, as the autoscaler sizes a pool by it: jobs and images in
line and how long the oldest has waited. Constant cost at any queue length (generation.line)."""

from dataclasses import dataclass
from datetime import datetime

from generation.line import line_back, line_head
from generation.models import DiffusionModel, Generation
from generation.queues import line_queues
from rollerai.connections import redis_connection


@dataclass(frozen=True)
class Backlog:
    jobs: int = 0
    images: int = 0
    oldest_queued_at: datetime | None = None


def models_backlog(slugs: tuple[str, ...]) -> Backlog:
    connection = redis_connection()
    jobs = images = 0
    firsts = []
    for model in DiffusionModel.objects.filter(slug__in=slugs):
        queues = line_queues(model)
        # The back of the line: everyone waiting is ahead of it, with their images.
        back = line_back(connection, queues, images=0)
        jobs += back.position - 1
        images += back.images_until_done
        firsts += [generation_id for generation_id, _ in line_head(connection, queues, 1)]
    oldest = (
        Generation.objects.filter(id__in=firsts, status=Generation.Status.QUEUED)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return Backlog(jobs=jobs, images=images, oldest_queued_at=oldest)
