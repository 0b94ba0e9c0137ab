"""A worker's background thread: it reports the worker alive (heartbeat), renews the leases of
the generations it runs (also during long steps, which block the main thread), takes its turn
at reaping generations whose workers died and restoring ones Redis lost, and tells waiting
users when the line moves."""

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from generation.fleet import HEARTBEAT_SECONDS, worker_heartbeat_remove, worker_heartbeat_write
from generation.queues import lease_take, leases_renew, maintenance_turn
from generation.services import (
    generations_reap,
    generations_reconcile,
    runs_current,
    standings_publish,
)
from worker.recovery import OUTAGE_ERRORS, outages, service_of
from worker.state import WorkerState

log = logging.getLogger(__name__)

# How often some worker (whichever gets the turn) looks for dead workers' and lost generations.
MAINTENANCE_SECONDS = 3


class Heartbeat(threading.Thread):
    def __init__(self, state: WorkerState) -> None:
        super().__init__(name="worker-heartbeat", daemon=True)
        self.state = state
        self._stopping = threading.Event()

    def run(self) -> None:
        last_beat = last_maintenance = last_standings = 0.0
        while not self._stopping.is_set():
            self.state.news.wait(0.25)
            self.state.news.clear()
            now = time.monotonic()
            maintained = False
            try:
                if now - last_beat >= HEARTBEAT_SECONDS or self.state.report_due:
                    last_beat = now
                    self.report()
                if now - last_maintenance >= MAINTENANCE_SECONDS:
                    last_maintenance = now
                    self._maintain()
                    maintained = True
                # Every job start would otherwise mean a burst of events per job, taking CPU
                # from sampling on the same machine.
                if now - last_standings >= settings.STANDINGS_INTERVAL_SECONDS:
                    moved = self.state.lines_moved()
                    if moved:
                        last_standings = now
                    for model in moved:
                        standings_publish(model)
            # The thread must outlive a Redis or database outage; the next round retries.
            except OUTAGE_ERRORS as error:
                outages.failed(service_of(error), error)
                close_old_connections()
            except Exception:
                log.exception("Heartbeat round failed")
            else:
                if maintained:  # maintenance uses the database and Redis both: they answer
                    outages.answered("database")
                    outages.answered("Redis")

    def report(self) -> None:
        self.state.report_due = False
        worker_heartbeat_write(self.state.status())
        runs = self.state.current()
        foreign = leases_renew(runs)
        if foreign:
            self._leases_settle({gid: runs[gid] for gid in foreign})

    def _leases_settle(self, runs: dict[str, str]) -> None:
        """Another run's token sits in these leases. If the database still has our run, a stale
        run wrote it (say, a worker that woke up after its claim was given up on): take the
        lease back. Otherwise ours is the stale run: stop it."""
        current = runs_current(runs)
        for generation_id in current:
            lease_take(generation_id, run_token=runs[generation_id])
        lost = set(runs) - current
        if lost:
            log.warning("Generation(s) %s now run elsewhere; stopping them here", sorted(lost))
            self.state.runs_lost(lost)

    def _maintain(self) -> None:
        close_old_connections()
        if not maintenance_turn(seconds=MAINTENANCE_SECONDS):
            return
        reaped = generations_reap()
        restored = generations_reconcile()
        if reaped or restored:
            log.info(
                "Requeued after worker loss: %s; restored to their queues: %s", reaped, restored
            )

    def stop(self) -> None:
        self._stopping.set()
        self.state.news.set()
        self.join(timeout=5)
        worker_heartbeat_remove(self.state.name)
