"""`manage.py rungpuworker`: a long-running GPU worker for the queues of some or all models."""

import contextlib
import os
import socket
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from redis import Redis
from rq import Queue, SimpleWorker

from generation.models import DiffusionModel
from generation.queues import model_queues
from generation.selectors import models_enabled
from rollerai.connections import redis_connection

# RQ imports job functions only when a job arrives; importing them here makes a broken import
# stop the worker at start instead of leaving every generation queued.
from worker import jobs  # noqa: F401
from worker.heartbeat import Heartbeat
from worker.pipelines import pipeline_cache
from worker.recovery import OUTAGE_ERRORS, outages, when_reachable
from worker.state import WorkerState, worker_state_set
from worker.torch_threads import TorchThreads, torch_threads_apply


class Command(BaseCommand):
    help = (
        "Run a GPU worker: it takes generations from the queues of the enabled models (or those "
        "given with --model), in this process, keeping pipelines loaded and batching compatible "
        "jobs into one pipeline call."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--model",
            action="append",
            dest="models",
            metavar="SLUG",
            help="Serve only this model's queues (repeatable). Default: every enabled model.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=settings.WORKER_BATCH_SIZE,
            help="Most images in one pipeline call (default: WORKER_BATCH_SIZE, %(default)s).",
        )
        parser.add_argument("--burst", action="store_true", help="Quit once the queues are empty.")
        parser.add_argument(
            "--name", help="Worker name shown to operators (default: host and pid)."
        )

    def _models(self, slugs: list[str] | None) -> list[DiffusionModel]:
        enabled = list(models_enabled())
        if not slugs:
            models = enabled
        else:
            by_slug = {model.slug: model for model in enabled}
            unknown = [slug for slug in slugs if slug not in by_slug]
            if unknown:
                raise CommandError(
                    f"No enabled model called {', '.join(unknown)}. "
                    f"Enabled: {', '.join(by_slug) or 'none'}."
                )
            models = [by_slug[slug] for slug in slugs]
        if not models:
            raise CommandError(
                "No enabled models to serve. Add one in the admin, or run "
                "`python manage.py create_tiny_model` for the demo model."
            )
        return models

    def _torch_threads(self) -> TorchThreads:
        if settings.WORKER_TORCH_THREADS < 0:
            raise CommandError("WORKER_TORCH_THREADS must be 0 (automatic) or more.")
        if settings.WORKERS_PER_MACHINE < 1:
            raise CommandError("WORKERS_PER_MACHINE must be at least 1.")
        return torch_threads_apply(
            device=pipeline_cache().device,
            setting=settings.WORKER_TORCH_THREADS,
            workers_per_machine=settings.WORKERS_PER_MACHINE,
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        # First, before any torch work can start its thread pools.
        threads = self._torch_threads()
        models = self._models(options["models"])
        # Every model's high-priority queue comes before any normal one: RQ takes from the first
        # queue in this list that has a job.
        per_model = [model_queues(model) for model in models]
        queues = [queues[0] for queues in per_model] + [queues[1] for queues in per_model]
        name = options["name"] or f"gpu-{socket.gethostname()}-{os.getpid()}"
        state = WorkerState(
            name=name,
            models=[model.slug for model in models],
            batch_size=options["batch_size"],
            torch_threads=threads.count,
        )
        worker_state_set(state)
        self.stdout.write(
            f"GPU worker {name} on {pipeline_cache().device}, batch size {state.batch_size}, "
            f"{threads.count} torch thread(s) ({threads.reason}), "
            f"serving: {', '.join(queue.name for queue in queues)}"
        )
        heartbeat = Heartbeat(state)
        # Announced before taking jobs, so the worker counts for ETAs from its first moment.
        heartbeat.report()
        heartbeat.start()
        try:
            _jobs_take(queues, name=name, burst=options["burst"])
        finally:
            heartbeat.stop()


def _jobs_take(queues: list[Queue], *, name: str, burst: bool) -> None:
    """Take jobs until asked to stop, through Redis outages.

    SimpleWorker runs each job in this process: no fork per job, so loaded pipelines (and a
    CUDA context, which does not survive a fork) stay alive between jobs. RQ's loop gives up
    ("quitting") when Redis fails outside of waiting for a job; then this waits for Redis and
    starts a fresh RQ worker, keeping the pipelines.
    """
    while True:
        connection = redis_connection()
        worker = SimpleWorker(queues, connection=connection, name=name)
        try:
            with contextlib.suppress(*OUTAGE_ERRORS):
                # The registration of this worker's previous life may have outlived it.
                connection.delete(worker.key)
            worker.work(burst=burst, logging_level="INFO")
        except OUTAGE_ERRORS as error:
            outages.failed("Redis", error)
        # RQ notes every SIGTERM/SIGINT here, whether it came while a job ran or while idle.
        if worker._shutdown_requested_date is not None or (burst and not _redis_lost(connection)):
            return
        when_reachable(connection.ping)


def _redis_lost(connection: Redis) -> bool:
    try:
        connection.ping()
    except OUTAGE_ERRORS:
        return True
    return False
