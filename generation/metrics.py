"""`/metrics`: the queue, the generations, the workers and the credits they cost, in Prometheus'
text format, for operators' dashboards and alerts. Staff sessions or `Authorization: Bearer
<METRICS_TOKEN>`."""

import hmac
import statistics
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from billing.selectors import generation_credit_totals
from generation.fleet import pool_reports, workers_live
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


def _summary(name: str, help_text: str, values: list[float]) -> Metric:
    """A summary of the window's values. prometheus-client's SummaryMetricFamily has no
    quantiles, and these are computed here from the rows, hence the samples by hand."""
    family = Metric(name, help_text, "summary")
    if len(values) == 1:
        family.add_sample(name, {"quantile": "0.5"}, values[0])
        family.add_sample(name, {"quantile": "0.95"}, values[0])
    elif values:
        cuts = statistics.quantiles(values, n=20, method="inclusive")
        family.add_sample(name, {"quantile": "0.5"}, statistics.median(values))
        family.add_sample(name, {"quantile": "0.95"}, cuts[18])
    family.add_sample(f"{name}_count", {}, len(values))
    family.add_sample(f"{name}_sum", {}, sum(values))
    return family


class SiteCollector(Collector):
    """Reads the database and Redis on each scrape: the figures live there, not in this
    process, which is one of many web processes."""

    def collect(self) -> Iterator[Metric]:
        yield self._queue_jobs()
        yield from self._generations()
        workers = workers_live()
        yield GaugeMetricFamily("rollerai_workers", "Live GPU workers.", value=len(workers))
        seconds = GaugeMetricFamily(
            "rollerai_worker_seconds_per_image",
            "Recent seconds per image of each live worker, by model.",
            labels=["worker", "model"],
        )
        for worker in workers:
            for model, value in worker.seconds_per_image.items():
                seconds.add_metric([worker.name, model], value)
        yield seconds
        yield from self._pools()
        debited, refunded = generation_credit_totals()
        yield CounterMetricFamily(
            "rollerai_credits_debited", "Credits charged for generations.", value=debited
        )
        yield CounterMetricFamily(
            "rollerai_credits_refunded",
            "Credits given back for failed or cancelled generations.",
            value=refunded,
        )

    def _pools(self) -> Iterator[Metric]:
        """What the autoscaler last reported of each pool (nothing while no controller runs)."""
        reports = pool_reports()
        workers = GaugeMetricFamily(
            "rollerai_pool_workers",
            "GPU workers of each autoscaled pool: up, starting (asked for, not up yet) and busy.",
            labels=["pool", "state"],
        )
        sizes = GaugeMetricFamily(
            "rollerai_pool_size_limit",
            "Each pool's desired worker count this round, and its minimum and maximum.",
            labels=["pool", "limit"],
        )
        starts = CounterMetricFamily(
            "rollerai_pool_worker_starts", "Workers the autoscaler asked for.", labels=["pool"]
        )
        stops = CounterMetricFamily(
            "rollerai_pool_worker_stops", "Workers the autoscaler stopped.", labels=["pool"]
        )
        decisions = CounterMetricFamily(
            "rollerai_pool_decisions",
            "Decisions the autoscaler carried out (each started or stopped workers).",
            labels=["pool"],
        )
        cold = GaugeMetricFamily(
            "rollerai_pool_cold_start_seconds",
            "Expected seconds from asking for a worker to its first heartbeat (measured once "
            "the pool has started some).",
            labels=["pool"],
        )
        failing = GaugeMetricFamily(
            "rollerai_pool_backend_failing",
            "1 while the pool's platform refuses or fails the autoscaler's requests.",
            labels=["pool"],
        )
        for report in reports:
            for state, count in (
                ("live", report.live),
                ("starting", report.starting),
                ("busy", report.busy),
            ):
                workers.add_metric([report.name, state], count)
            for limit, count in (
                ("desired", report.desired),
                ("min", report.min_workers),
                ("max", report.max_workers),
            ):
                sizes.add_metric([report.name, limit], count)
            starts.add_metric([report.name], report.starts)
            stops.add_metric([report.name], report.stops)
            decisions.add_metric([report.name], report.decisions)
            cold.add_metric([report.name], report.cold_start_seconds)
            failing.add_metric([report.name], 1 if report.backend_error else 0)
        yield from (workers, sizes, starts, stops, decisions, cold, failing)

    def _queue_jobs(self) -> Metric:
        family = GaugeMetricFamily(
            "rollerai_queue_jobs",
            "Jobs waiting in each model's queues.",
            labels=["model", "priority"],
        )
        for model in DiffusionModel.objects.filter(enabled=True):
            family.add_metric([model.slug, "high"], model_queue(model, high_priority=True).count)
            family.add_metric([model.slug, "normal"], model_queue(model).count)
        return family

    def _generations(self) -> Iterator[Metric]:
        since = timezone.now() - WINDOW
        unfinished = dict(
            Generation.objects.filter(status__in=["queued", "running"])
            .values_list("status")
            .annotate(count=Count("id"))
        )
        family = GaugeMetricFamily(
            "rollerai_generations_unfinished",
            "Generations queued or running now.",
            labels=["status"],
        )
        for status in ("queued", "running"):
            family.add_metric([status], unfinished.get(status, 0))
        yield family

        finished = dict(
            Generation.objects.filter(finished_at__gte=since)
            .values_list("status")
            .annotate(count=Count("id"))
        )
        family = GaugeMetricFamily(
            "rollerai_generations_finished_last_hour",
            "Generations that finished in the last hour, by outcome.",
            labels=["status"],
        )
        for status in ("succeeded", "failed", "canceled"):
            family.add_metric([status], finished.get(status, 0))
        yield family

        done = Generation.objects.filter(finished_at__gte=since, status="succeeded").values_list(
            "created_at", "started_at", "finished_at"
        )[:5000]
        waits = [(started - created).total_seconds() for created, started, _ in done if started]
        runs = [
            (finished_at - started).total_seconds()
            for _, started, finished_at in done
            if started and finished_at
        ]
        yield _summary(
            "rollerai_generation_wait_seconds",
            "Queue time of generations that succeeded in the last hour.",
            waits,
        )
        yield _summary(
            "rollerai_generation_run_seconds",
            "Time on a worker of generations that succeeded in the last hour.",
            runs,
        )


# A private registry: the process-wide default one would add this process's own Python and
# GC figures, which say nothing about the site.
REGISTRY = CollectorRegistry()
REGISTRY.register(SiteCollector())


def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_PLAIN_0_0_4)
