"""`/metrics`: the queue, the generations and the workers in Prometheus' text format, for
operators' dashboards and alerts. Staff sessions or `Authorization: Bearer <METRICS_TOKEN>`."""

import hmac
import statistics
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from generation.fleet import workers_live
from generation.models import DiffusionModel, Generation
from generation.queues import model_queue

# Finished generations are counted over a recent window, which an index on finished_at keeps
# cheap however many generations the site has made.
WINDOW = timedelta(hours=1)


def _allowed(request: HttpRequest) -> bool:
    if request.user.is_authenticated and request.user.is_staff:
        return True
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(sent, token)


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    if len(values) == 1:
        return {"0.5": values[0], "0.95": values[0]}
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return {"0.5": statistics.median(values), "0.95": cuts[18]}


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, float]]) -> str:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{labels} {value:g}" for labels, value in samples]
    return "\n".join(lines)


def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    since = timezone.now() - WINDOW
    models = list(DiffusionModel.objects.filter(enabled=True))
    unfinished = dict(
        Generation.objects.filter(status__in=["queued", "running"])
        .values_list("status")
        .annotate(count=Count("id"))
    )
    finished = dict(
        Generation.objects.filter(finished_at__gte=since)
        .values_list("status")
        .annotate(count=Count("id"))
    )
    done = Generation.objects.filter(finished_at__gte=since, status="succeeded").values_list(
        "created_at", "started_at", "finished_at"
    )[:5000]
    waits = [(started - created).total_seconds() for created, started, _ in done if started]
    runs = [
        (finished - started).total_seconds()
        for _, started, finished in done
        if started and finished
    ]
    workers = workers_live()
    families = [
        _family(
            "rollerai_queue_jobs",
            "gauge",
            "Jobs waiting in each model's queues.",
            (
                (f'{{model="{model.slug}",priority="{priority}"}}', queue.count)
                for model in models
                for priority, queue in (
                    ("high", model_queue(model, high_priority=True)),
                    ("normal", model_queue(model)),
                )
            ),
        ),
        _family(
            "rollerai_generations_unfinished",
            "gauge",
            "Generations queued or running now.",
            (
                (f'{{status="{status}"}}', unfinished.get(status, 0))
                for status in ("queued", "running")
            ),
        ),
        _family(
            "rollerai_generations_finished_last_hour",
            "gauge",
            "Generations that finished in the last hour, by outcome.",
            (
                (f'{{status="{status}"}}', finished.get(status, 0))
                for status in ("succeeded", "failed", "canceled")
            ),
        ),
        _family(
            "rollerai_generation_wait_seconds",
            "summary",
            "Queue time of generations that succeeded in the last hour.",
            ((f'{{quantile="{q}"}}', value) for q, value in _quantiles(waits).items()),
        ),
        _family(
            "rollerai_generation_run_seconds",
            "summary",
            "Time on a worker of generations that succeeded in the last hour.",
            ((f'{{quantile="{q}"}}', value) for q, value in _quantiles(runs).items()),
        ),
        _family("rollerai_workers", "gauge", "Live GPU workers.", [("", len(workers))]),
        _family(
            "rollerai_worker_seconds_per_image",
            "gauge",
            "Recent seconds per image of each live worker, by model.",
            (
                (f'{{worker="{worker.name}",model="{model}"}}', seconds)
                for worker in workers
                for model, seconds in worker.seconds_per_image.items()
            ),
        ),
    ]
    return HttpResponse(
        "\n".join(families) + "\n", content_type="text/plain; version=0.0.4; charset=utf-8"
    )
