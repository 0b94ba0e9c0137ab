"""`manage.py autoscale`: the autoscaler's controller, a long-running process. SIGTERM or SIGINT
stops it after the round it is in, leaving the workers as they are: the next controller adopts
them. Two may run for safety; only the one holding the lock acts."""

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from worker.autoscaler.backends import BACKEND_KINDS, backend_class
from worker.autoscaler.backends.local import local_workers_stop
from worker.autoscaler.controller import Controller
from worker.selectors import pools_current


class Command(BaseCommand):
    help = (
        "Run the autoscaler: GPU workers of each pool follow the queue, down to the pool's "
        "minimum when idle and back up when work arrives."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--warm",
            type=int,
            default=0,
            metavar="N",
            help="Start workers at boot so each pool has N (within its maximum); they stop "
            "again after the idle timeout if no work comes.",
        )
        parser.add_argument(
            "--stop-local-workers",
            action="store_true",
            help="Stop the local backend's workers (each finishes its job first) and exit.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["warm"] < 0:
            raise CommandError("--warm must be 0 or more.")
        if options["stop_local_workers"]:
            self._local_workers_stop()
            return
        self._settings_check()
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            self.stdout.write("Autoscaler stopping; the workers stay as they are.")
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        pools = ", ".join(
            f"{pool.name} ({pool.backend}, {pool.limits.min_workers}-{pool.limits.max_workers})"
            for pool in pools_current()
        )
        self.stdout.write(f"Autoscaler started; pools: {pools or 'none'}")
        controller = Controller(
            round_seconds=settings.AUTOSCALER_ROUND_SECONDS, warm_workers=options["warm"]
        )
        controller.run(stopping)

    def _settings_check(self) -> None:
        """The site's own pool comes from settings: a typo there should stop the command with
        a message, not fail every round."""
        if settings.AUTOSCALER_BACKEND not in BACKEND_KINDS:
            raise CommandError(
                f"AUTOSCALER_BACKEND={settings.AUTOSCALER_BACKEND!r}: use one of "
                f"{', '.join(BACKEND_KINDS)}."
            )
        if not isinstance(settings.AUTOSCALER_BACKEND_SETTINGS, dict):
            raise CommandError("AUTOSCALER_BACKEND_SETTINGS must be a JSON object, e.g. {}.")
        problems = backend_class(settings.AUTOSCALER_BACKEND).settings_problems(
            settings.AUTOSCALER_BACKEND_SETTINGS
        )
        if problems:
            raise CommandError("AUTOSCALER_BACKEND_SETTINGS: " + " ".join(problems))
        if not 0 <= settings.AUTOSCALER_MIN_WORKERS <= settings.AUTOSCALER_MAX_WORKERS:
            raise CommandError(
                "AUTOSCALER_MIN_WORKERS must be between 0 and AUTOSCALER_MAX_WORKERS."
            )

    def _local_workers_stop(self) -> None:
        for pool in pools_current():
            if pool.backend == "local":
                stopped = local_workers_stop(pool.name, timeout=120)
                self.stdout.write(f"Pool {pool.name}: stopped {stopped} local worker(s).")
