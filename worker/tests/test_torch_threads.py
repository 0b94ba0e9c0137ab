"""Workers size torch's threads to their share of the machine's cores, and say so at start and
in their heartbeat."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from generation.fleet import WorkerStatus, workers_live
from generation.models import DiffusionModel
from testing.processes import RunningProcess, gpu_worker_start
from worker.torch_threads import quota_cores, usable_cores


def heartbeat_of(name: str) -> WorkerStatus:
    # The worker reports before it starts listening, so its heartbeat is there already.
    [status] = [status for status in workers_live() if status.name == name]
    return status


@contextmanager
def worker_running(tmp_path: Path, name: str, **env: str) -> Iterator[RunningProcess]:
    worker = gpu_worker_start(tmp_path / f"{name}.log", "--name", name, **env)
    try:
        yield worker
    finally:
        worker.stop()


def test_two_workers_per_machine_each_take_half_the_cores(
    transactional_db: None, tiny_model: DiffusionModel, tiny_model_folder: Path, tmp_path: Path
) -> None:
    cores = usable_cores()
    if cores < 2:
        pytest.skip("needs at least two cores: torch's default is one thread here anyway")

    with worker_running(tmp_path, "half", WORKERS_PER_MACHINE="2") as worker:
        status = heartbeat_of("half")

    assert status.torch_threads == cores // 2
    assert (
        f"{cores // 2} torch thread(s) ({cores} usable core(s) / WORKERS_PER_MACHINE=2)"
        in worker.output()
    )


def test_a_worker_counts_only_the_cores_it_is_allowed_to_run_on(
    transactional_db: None, tiny_model: DiffusionModel, tiny_model_folder: Path, tmp_path: Path
) -> None:
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2:
        pytest.skip("needs at least two cores to pin a worker to fewer")
    # The worker inherits the affinity it is started with, as under `taskset -c`.
    os.sched_setaffinity(0, {min(allowed)})
    try:
        with worker_running(tmp_path, "pinned") as worker:
            status = heartbeat_of("pinned")
    finally:
        os.sched_setaffinity(0, allowed)

    assert status.torch_threads == 1
    assert "1 torch thread(s) (1 usable core(s) / WORKERS_PER_MACHINE=1)" in worker.output()


def test_an_explicit_thread_count_is_honoured_whatever_the_share(
    transactional_db: None, tiny_model: DiffusionModel, tiny_model_folder: Path, tmp_path: Path
) -> None:
    with worker_running(
        tmp_path, "explicit", WORKER_TORCH_THREADS="3", WORKERS_PER_MACHINE="2"
    ) as worker:
        status = heartbeat_of("explicit")

    assert status.torch_threads == 3
    assert "3 torch thread(s) (WORKER_TORCH_THREADS)" in worker.output()


def test_a_containers_cpu_quota_counts_in_whole_cores() -> None:
    # Docker's --cpus=1.5 and a Kubernetes limit of 4 CPUs, as cgroups write them.
    assert quota_cores("150000", "100000") == 1
    assert quota_cores("400000", "100000") == 4
    assert quota_cores("50000", "100000") == 1
    assert quota_cores("max", "100000") is None
    assert quota_cores("-1\n", "100000\n") is None
