"""The autoscaler end to end on the local backend: real Redis, database, controller and worker
processes. A pool at zero gets a worker when work arrives (and users are told a GPU is
starting), everything runs exactly once, the pool goes back to zero after its idle timeout, and
a controller that is stopped and started again adopts the worker it left running."""

import os
import queue
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.services import api_key_create
from generation.fleet import PoolReport, pool_decisions, pool_reports, workers_live
from generation.models import DiffusionModel, Generation
from rollerai.connections import redis_connection
from testing.api import generation_submitted
from testing.processes import RunningProcess, process_environment
from testing.waiting import generation_wait
from testing.websocket import LiveSocket
from worker.autoscaler.backends.local import local_workers_stop

IDLE_SECONDS = 12
# The controller's environment: a pool of one local worker that goes after a short idle time.
CONTROLLER_ENV = {
    "AUTOSCALER_BACKEND": "local",
    "AUTOSCALER_MAX_WORKERS": "1",
    "AUTOSCALER_IDLE_SECONDS": str(IDLE_SECONDS),
    "AUTOSCALER_ROUND_SECONDS": "0.5",
    "AUTOSCALER_COLD_START_SECONDS": "20",
}


def controller_start(log_path: Path) -> RunningProcess:
    controller = RunningProcess(
        [sys.executable, "manage.py", "autoscale"],
        log_path=log_path,
        env=process_environment(**CONTROLLER_ENV),
    )
    controller.wait_for_output("Autoscaler started", timeout=60)
    return controller


def pool_report(*, timeout: float = 30.0, until: object = None) -> PoolReport:
    """The default pool's report, once `until(report)` holds."""
    deadline = time.monotonic() + timeout
    report = None
    while time.monotonic() < deadline:
        report = next((r for r in pool_reports() if r.name == "default"), None)
        if report is not None and (until is None or until(report)):  # type: ignore[operator]
            return report
        time.sleep(0.2)
    raise AssertionError(f"the pool's report did not get there: {report}")


def local_worker_pids() -> list[int]:
    return [status.pid for status in workers_live() if status.pool == "default"]


def starting_event(socket: LiveSocket, timeout: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = socket.messages.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if event.get("gpu_starting_seconds") is not None:
            return event
    raise AssertionError("no event said a GPU was starting")


@pytest.mark.usefixtures("tiny_model_folder")
def test_a_pool_at_zero_starts_a_worker_runs_everything_once_and_goes_back_to_zero(
    transactional_db: None,
    web_server: str,
    alice_client: Client,
    user: User,
    tiny_model: DiffusionModel,
    tmp_path: Path,
) -> None:
    _, key = api_key_create(user=user, name="autoscale")
    socket = LiveSocket(web_server, protocols=["bearer", key])
    controller = controller_start(tmp_path / "controller-1.log")
    workers: list[int] = []
    try:
        assert pool_report(until=lambda r: r.updated_at > 0).live == 0

        ids = [generation_submitted(alice_client, steps=2) for _ in range(6)]

        # While the worker starts, the API and the live events say so.
        starting = pool_report(until=lambda r: r.starting == 1)
        assert starting.live == 0
        detail = alice_client.get(f"/api/v1/generations/{ids[0]}").json()
        assert detail["status"] == "queued"
        assert detail["waiting_for_worker"] is True
        assert 0 <= detail["gpu_starting_seconds"] <= 20
        event = starting_event(socket, timeout=10)
        assert event["id"] in ids and event["waiting_for_worker"] is True

        for generation_id in ids:
            generation_wait(generation_id, "succeeded", timeout=180)
        workers = local_worker_pids()
        assert len(workers) == 1
        assert sorted(
            Generation.objects.order_by().values_list("status", "attempts").distinct()
        ) == [("succeeded", 1)]
        measured = pool_report(until=lambda r: r.cold_start_measured)
        assert measured.starts == 1
        print(f"cold start measured: {measured.cold_start_seconds:.1f} s")

        # Stopping the controller leaves the worker as it was.
        assert controller.stop() == 0
        time.sleep(2)
        assert local_worker_pids() == workers
    except BaseException:
        local_workers_stop("default", timeout=30)
        raise
    finally:
        controller.stop()
        socket.close()

    controller = controller_start(tmp_path / "controller-2.log")
    try:
        # The new controller adopts the worker: up, and nothing new started for it.
        adopted = pool_report(until=lambda r: r.updated_at > time.time() - 1 and r.live == 1)
        assert adopted.starts == 1 and adopted.starting == 0
        # Redis loses the registry of local workers (a flush): the worker, still beating, is
        # taken back into it, and goes when idle like any other.
        redis_connection().delete("autoscaler:local:default")
        idle_from = time.monotonic()
        gone = pool_report(timeout=IDLE_SECONDS + 30, until=lambda r: r.live == 0)
        assert gone.stops == 1 and gone.starting == 0 and gone.decisions == 2
        print(f"idle to zero: {time.monotonic() - idle_from:.1f} s after adoption")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(workers[0]):
            time.sleep(0.2)
        assert not _alive(workers[0])
        assert any(d["reason"].startswith("idle for") for d in pool_decisions())
    finally:
        controller.stop()
        local_workers_stop("default", timeout=30)
        for pid in local_worker_pids():  # any the registry lost track of
            os.kill(pid, 15)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/cmdline").exists() and bool(Path(f"/proc/{pid}/cmdline").read_bytes())
