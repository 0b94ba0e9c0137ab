"""The local backend: GPU workers as processes on the autoscaler's own machine. The default,
and what `make run` uses.

Workers run in sessions of their own and outlive the controller: stopping the controller leaves
them as they are, and the next controller adopts them from the registry it keeps in Redis
(instance id -> pid). So they never write to the controller's own output (a pipe, under
honcho, that would stay open as long as they live, and break when the controller goes): each
writes to a log file of its own in AUTOSCALER_LOCAL_LOG_DIR, which the controller copies to its
output, line by line, prefixed with the worker's name, as it goes.

A worker is recognised by its command line, which holds its name, so a pid taken over by another
program is never signalled. Each worker gets WORKERS_PER_MACHINE set to the pool's maximum, so
that workers sharing these cores divide them (DESIGN.md 9).
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings

from generation.fleet import workers_live
from rollerai.connections import redis_connection
from worker.autoscaler.backends.base import Backend, PlatformWorker
from worker.autoscaler.worker_logs import WorkerLogs


def _registry(pool: str) -> str:
    return f"autoscaler:local:{pool}"


class LocalBackend(Backend):
    kind = "local"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Workers this controller started: polled, so that their exits are reaped.
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._logs = WorkerLogs(Path(settings.AUTOSCALER_LOCAL_LOG_DIR))

    def workers(self) -> list[PlatformWorker]:
        redis = redis_connection()
        self._strays_adopt()
        workers = []
        for raw_id, raw in redis.hgetall(_registry(self.pool.name)).items():  # type: ignore[union-attr]
            instance, entry = raw_id.decode(), json.loads(raw)
            self._logs.copy(instance)
            if not self._alive(instance, entry["pid"]):
                redis.hdel(_registry(self.pool.name), instance)
                self._children.pop(instance, None)
                self._logs.forget(instance)
                continue
            workers.append(
                PlatformWorker(
                    id=instance,
                    started_at=entry["started_at"],
                    stopping=entry.get("stopping", False),
                )
            )
        return sorted(workers, key=lambda worker: worker.started_at)

    def _strays_adopt(self) -> None:
        """Workers of this pool on this machine that beat but are missing from the registry
        (Redis lost it: a flush, a restart without persistence) are taken back into it, so
        that they are stopped when idle like any other."""
        redis = redis_connection()
        known = {raw.decode() for raw in redis.hkeys(_registry(self.pool.name))}  # type: ignore[union-attr]
        host = socket.gethostname()
        for status in workers_live():
            mine = status.pool == self.pool.name and status.host == host
            if mine and status.instance not in known and _runs_worker(status.pid, status.instance):
                entry = {"pid": status.pid, "started_at": status.started_at}
                redis.hset(_registry(self.pool.name), status.instance, json.dumps(entry))

    def start(self, count: int) -> None:
        for _ in range(count):
            instance = f"{self.pool.name}-local-{secrets.token_hex(3)}"
            with self._logs.create(instance) as log:
                process = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
                    self._command(instance),
                    env=self._environment(instance),
                    cwd=settings.BASE_DIR,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self._children[instance] = process
            entry = {"pid": process.pid, "started_at": time.time()}
            redis_connection().hset(_registry(self.pool.name), instance, json.dumps(entry))

    def stop(self, workers: Sequence[PlatformWorker]) -> None:
        redis = redis_connection()
        for worker in workers:
            raw = redis.hget(_registry(self.pool.name), worker.id)
            if raw is None:
                continue
            entry = json.loads(raw)  # type: ignore[arg-type]
            if self._alive(worker.id, entry["pid"]):
                # One SIGTERM: the worker finishes the job it holds, then exits.
                os.kill(entry["pid"], signal.SIGTERM)
            entry["stopping"] = True
            redis.hset(_registry(self.pool.name), worker.id, json.dumps(entry))

    def _command(self, instance: str) -> list[str]:
        command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "rungpuworker"]
        command += ["--name", instance]
        for slug in self.pool.models:
            command += ["--model", slug]
        return command

    def _environment(self, instance: str) -> dict[str, str]:
        return {
            **os.environ,
            "WORKER_POOL": self.pool.name,
            "WORKER_INSTANCE_ID": instance,
            "WORKERS_PER_MACHINE": str(self.pool.limits.max_workers),
        }

    def _alive(self, instance: str, pid: int) -> bool:
        child = self._children.get(instance)
        if child is not None:
            return child.poll() is None
        return _runs_worker(pid, instance)


def _runs_worker(pid: int, instance: str) -> bool:
    """Whether `pid` is still the worker called `instance` (not a pid reused since)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # not ours
    try:
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return True  # no /proc here (macOS): the pid is alive, and that will do
    return instance.encode() in command_line.split(b"\0")


def local_workers_stop(pool: str, *, timeout: float) -> int:
    """SIGTERM every local worker of `pool` and wait (up to `timeout`) for them to finish their
    jobs and exit: for `make run`'s Ctrl-C, which should leave nothing running."""
    redis = redis_connection()
    entries = {
        raw_id.decode(): json.loads(raw)
        for raw_id, raw in redis.hgetall(_registry(pool)).items()  # type: ignore[union-attr]
    }
    running = {i: e["pid"] for i, e in entries.items() if _runs_worker(e["pid"], i)}
    for pid in running.values():
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_runs_worker(p, i) for i, p in running.items()):
        time.sleep(0.2)
    redis.delete(_registry(pool))
    return len(running)
