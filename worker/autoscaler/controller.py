"""The autoscaler's controller (`manage.py autoscale`): each round, per pool, read what is
queued and running and which workers are up or starting, let the policy decide, have the
pool's backend carry it out, and record the decision for the staff page, /metrics and ETAs.

Platform errors (a quota, a 5xx, an unreachable API) are logged and retried with backoff; they
never stop the controller. Stopping the controller leaves the workers as they are."""

import logging
import threading
import time
from dataclasses import replace

from django.db import close_old_connections

from generation.backlog import models_backlog
from generation.fleet import WorkerStatus, pool_report_write, workers_live
from generation.models import DiffusionModel
from generation.services import standings_publish
from rollerai.connections import redis_connection
from rollerai.leader import LeaderLock
from worker.autoscaler.backends.base import BackendError
from worker.autoscaler.policy import Decision, decide
from worker.autoscaler.pool_run import PoolRun
from worker.autoscaler.pools import PoolSpec
from worker.autoscaler.reading import PoolReading, pool_read
from worker.selectors import pools_current

log = logging.getLogger(__name__)

# While a GPU starts for a pool with none up, its waiting users hear the time left this often.
STARTING_NEWS_SECONDS = 5.0


class Controller:
    def __init__(self, *, round_seconds: float, warm_workers: int = 0) -> None:
        self.round_seconds = round_seconds
        self.lock = LeaderLock(
            redis_connection(), "autoscaler:lock", ttl_seconds=max(10.0, 4 * round_seconds)
        )
        self.pools: dict[str, PoolRun] = {}
        # Workers to have at boot (`make run` starts one), once this controller holds the lock.
        self.warm_workers = warm_workers
        self.acting = False
        self.unusable_said: dict[str, float] = {}

    def run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            started = time.monotonic()
            try:
                self.round()
            except Exception:
                # Redis or the database away, say: the next round tries again.
                log.exception("Autoscaler round failed")
                close_old_connections()
            stopping.wait(max(0.0, self.round_seconds - (time.monotonic() - started)))
        for pool in self.pools.values():
            pool.backend.close()
        self.lock.release()

    def round(self) -> None:
        if not self.lock.hold():
            if self.acting:
                log.warning("Another controller holds the lock now; standing by")
            self.acting = False
            return
        if not self.acting:
            log.info("This controller acts now (it holds the lock)")
            self.acting = True
        close_old_connections()
        specs = pools_current()
        heartbeats = workers_live()
        for spec in specs:
            # One pool's trouble (a backend missing here, a bug) must not stop the others.
            try:
                self._pool_round(self._pool(spec), heartbeats)
            except KeyError as error:
                self._unusable(spec, str(error))
            except Exception:
                log.exception("Pool %s: round failed", spec.name)
        self.warm_workers = 0

    def _unusable(self, spec: PoolSpec, why: str) -> None:
        """Said once a minute, not every round."""
        now = time.monotonic()
        if now - self.unusable_said.get(spec.name, -60.0) >= 60:
            self.unusable_said[spec.name] = now
            log.error("Pool %s cannot be scaled: %s", spec.name, why.strip("'\""))

    def _pool(self, spec: PoolSpec) -> PoolRun:
        run = self.pools.get(spec.name)
        if run is None:
            run = self.pools[spec.name] = PoolRun(spec)
        elif run.spec != spec:
            run.respec(spec)
        return run

    def _pool_round(self, pool: PoolRun, heartbeats: list[WorkerStatus]) -> None:
        now = time.time()
        if now < pool.retry_at:
            return
        try:
            platform = pool.backend.workers()
        except BackendError as error:
            self._failed(pool, "list", error, now)
            self._report_failure(pool, heartbeats, now)
            return
        reading = pool_read(
            pool.spec,
            platform=platform,
            heartbeats=heartbeats,
            backlog=models_backlog(pool.spec.models),
            now=now,
            seconds_per_image=pool.seconds_per_image,
            cold_start_seconds=pool.cold_start_seconds,
        )
        pool.seconds_per_image = reading.state.seconds_per_image
        came_up = self._cold_starts_measure(pool, reading)
        decision = decide(reading.state, pool.spec.limits, pool.memory)
        decision = self._warm(pool, reading, decision)
        pool.memory_keep(decision.memory)
        carried = self._carry_out(pool, reading, decision, now)
        self._report(pool, reading, decision if carried else None, now)
        # Waiting users hear at once that a GPU is starting or is up, and, while one starts
        # for nobody served yet, every few seconds how long it should still take.
        waiting_on_start = bool(reading.starting) and not reading.up
        if (
            came_up
            or (carried and decision.start)
            or (waiting_on_start and now - pool.standings_sent_at >= STARTING_NEWS_SECONDS)
        ):
            pool.standings_sent_at = now
            self._standings_publish(pool.spec)

    def _warm(self, pool: PoolRun, reading: PoolReading, decision: Decision) -> Decision:
        have = len(reading.up) + len(reading.starting)
        wanted = min(self.warm_workers, pool.spec.limits.max_workers)
        if decision.start or decision.stop or have >= wanted:
            return decision
        return Decision(
            start=wanted - have, desired=wanted, reason="warm at boot", memory=decision.memory
        )

    def _cold_starts_measure(self, pool: PoolRun, reading: PoolReading) -> bool:
        """Workers this controller saw starting that are up now: how long each took."""
        came_up = False
        for worker_id, worker in reading.up.items():
            if worker_id in pool.seen_starting:
                pool.seen_starting.discard(worker_id)
                status = reading.heartbeats[worker_id]
                pool.cold_start_measured(max(0.0, status.started_at - worker.started_at))
                came_up = True
        pool.seen_starting |= {worker.id for worker in reading.starting}
        return came_up

    def _carry_out(
        self, pool: PoolRun, reading: PoolReading, decision: Decision, now: float
    ) -> bool:
        if not decision.changes:
            return False
        try:
            if decision.start:
                pool.backend.start(decision.start)
                pool.started(decision.start)
            if decision.stop:
                pool.backend.stop([reading.up[worker_id] for worker_id in decision.stop])
                pool.stopped(len(decision.stop))
        except BackendError as error:
            self._failed(pool, "start" if decision.start else "stop", error, now)
            return False
        pool.succeeded()
        pool.decided()
        pool.last_reason = decision.reason
        log.info(
            "Pool %s: %s (start %d, stop %s; %d up, %d starting, %d queued)",
            pool.spec.name,
            decision.reason,
            decision.start,
            list(decision.stop) or "none",
            len(reading.up),
            len(reading.starting),
            reading.state.queued_jobs,
        )
        return True

    def _failed(self, pool: PoolRun, action: str, error: BackendError, now: float) -> None:
        pool.failed(error, now)
        log.warning(
            "Pool %s: the %s backend could not %s workers: %s; trying again in %.0f s",
            pool.spec.name,
            pool.spec.backend,
            action,
            error,
            pool.retry_at - now,
        )

    def _report(
        self, pool: PoolRun, reading: PoolReading, decision: Decision | None, now: float
    ) -> None:
        state = reading.state
        starting = len(reading.starting) + (decision.start if decision else 0)
        report = pool.report(
            live=len(state.live),
            starting=starting,
            starting_since=min(state.starting_since, default=now if starting else None),
            busy=sum(worker.busy for worker in state.live),
            desired=decision.desired if decision else len(state.live) + len(reading.starting),
            queued_jobs=state.queued_jobs,
            now=now,
        )
        record = None
        if decision is not None:
            record = {
                "at": now,
                "pool": pool.spec.name,
                "start": decision.start,
                "stop": list(decision.stop),
                "desired": decision.desired,
                "reason": decision.reason,
                "live": len(state.live),
                "queued_jobs": state.queued_jobs,
            }
        pool_report_write(report, record)

    def _report_failure(self, pool: PoolRun, heartbeats: list[WorkerStatus], now: float) -> None:
        """The platform could not even list the pool's workers: the staff page and /metrics
        still hear of the pool, with the error, and (before any round went well) with what
        the heartbeats say is up."""
        report = pool.last_report
        if report is None:
            up = [status for status in heartbeats if status.pool == pool.spec.name]
            report = pool.report(
                live=len(up),
                starting=0,
                starting_since=None,
                busy=sum(bool(status.current_generations) for status in up),
                desired=len(up),
                queued_jobs=0,
                now=now,
            )
        report = replace(report, backend_error=pool.last_error, updated_at=now)
        pool.last_report = report
        pool_report_write(report)

    def _standings_publish(self, spec: PoolSpec) -> None:
        for model in DiffusionModel.objects.filter(slug__in=spec.models):
            standings_publish(model)
