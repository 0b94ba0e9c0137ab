"""`manage.py rungpuworker`: a long-running GPU worker for the queues of some or all models."""

import os
import socket
from typing import Any

import django_rq
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rq import SimpleWorker

from generation.queues import model_queue
from generation.selectors import models_enabled

# RQ imports job functions only when a job arrives; importing them here makes a broken import
# stop the worker at start instead of leaving every generation queued.
from worker import jobs  # noqa: F401
from worker.pipelines import pipeline_cache


class Command(BaseCommand):
    help = (
        "Run a GPU worker: it takes generations from the queues of the enabled models (or those "
        "given with --model), one at a time, in this process, keeping pipelines loaded."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--model",
            action="append",
            dest="models",
            metavar="SLUG",
            help="Serve only this model's queue; repeat for several. Default: every enabled model.",
        )
        parser.add_argument("--burst", action="store_true", help="Quit once the queues are empty.")
        parser.add_argument(
            "--name", help="Worker name shown to operators (default: host and pid)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        enabled = list(models_enabled())
        if options["models"]:
            by_slug = {model.slug: model for model in enabled}
            unknown = [slug for slug in options["models"] if slug not in by_slug]
            if unknown:
                raise CommandError(
                    f"No enabled model called {', '.join(unknown)}. "
                    f"Enabled: {', '.join(by_slug) or 'none'}."
                )
            models = [by_slug[slug] for slug in options["models"]]
        else:
            models = enabled
        if not models:
            raise CommandError(
                "No enabled models to serve. Add one in the admin, or run "
                "`python manage.py create_tiny_model` for the demo model."
            )
        queues = [model_queue(model) for model in models]
        device = pipeline_cache().device
        self.stdout.write(
            f"GPU worker on {device}, serving: {', '.join(queue.name for queue in queues)}"
        )
        # SimpleWorker runs each job in this process: no fork per job, so loaded pipelines (and
        # a CUDA context, which does not survive a fork) stay alive between jobs.
        worker = SimpleWorker(
            queues,
            connection=django_rq.get_connection("default"),
            name=options["name"] or f"gpu-{socket.gethostname()}-{os.getpid()}",
        )
        worker.work(burst=options["burst"], logging_level="INFO")
