"""Staff view of the live GPU workers, from their heartbeats."""

from datetime import UTC, datetime

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from generation.fleet import pool_decisions, pool_reports, workers_live
from generation.models import DiffusionModel
from generation.queues import queue_length


@staff_member_required
def workers_page(request: HttpRequest) -> HttpResponse:
    workers = workers_live()
    queues = [(model, queue_length(model)) for model in DiffusionModel.objects.filter(enabled=True)]
    return render(
        request,
        "admin/workers.html",
        {
            **admin.site.each_context(request),
            "title": "Live GPU workers",
            "workers": [
                (worker, datetime.fromtimestamp(worker.started_at, tz=UTC)) for worker in workers
            ],
            "queues": queues,
            "pools": pool_reports(),
            "decisions": [
                {**decision, "at": datetime.fromtimestamp(float(decision["at"]), tz=UTC)}  # type: ignore[arg-type]
                for decision in pool_decisions()
            ],
        },
    )
