"""How many threads torch uses in a worker: on the CPU, the worker's share of the cores it may
run on, so that several workers on one machine do not fight over them.

Two CPU workers on two cores with torch's default (a thread per core each) ran a 4-image call in
545-681 ms; with one thread each, in 81-86 ms.
"""

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch

log = logging.getLogger(__name__)

# Where a container sees its own CPU quota (Docker's --cpus, Kubernetes CPU limits), which its
# CPU affinity does not show: cgroup v2, then v1.
CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


@dataclass(frozen=True)
class TorchThreads:
    count: int
    # How the count came about, for the worker's start line.
    reason: str


def quota_cores(quota: str, period: str) -> int | None:
    """Whole cores a CFS quota allows (at least one), or None for no quota ("max" or -1)."""
    if quota.strip() in ("max", "-1"):
        return None
    # Rounded down: a thread more than the quota allows is throttled, and stalls its siblings.
    return max(1, int(quota) // int(period))


def _cgroup_cores() -> int | None:
    try:
        if CGROUP_V2_CPU_MAX.exists():
            quota, period = CGROUP_V2_CPU_MAX.read_text().split()
            return quota_cores(quota, period)
        if CGROUP_V1_QUOTA.exists():
            return quota_cores(CGROUP_V1_QUOTA.read_text(), CGROUP_V1_PERIOD.read_text())
    except (OSError, ValueError):
        return None
    return None


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (taskset, cpuset cgroups), capped
    by a container's CPU quota."""
    cores = len(os.sched_getaffinity(0))
    quota = _cgroup_cores()
    return min(cores, quota) if quota else cores


def torch_threads_choose(
    *, device: str, setting: int, workers_per_machine: int, cores: int
) -> TorchThreads | None:
    """The threads to give torch, or None to leave torch's own choice alone (CUDA does its work
    on the GPU, and a few CPU threads more or less change nothing there)."""
    if setting > 0:
        return TorchThreads(setting, "WORKER_TORCH_THREADS")
    if device == "cuda":
        return None
    count = max(1, cores // workers_per_machine)
    return TorchThreads(
        count, f"{cores} usable core(s) / WORKERS_PER_MACHINE={workers_per_machine}"
    )


def torch_threads_apply(*, device: str, setting: int, workers_per_machine: int) -> TorchThreads:
    """Size torch's thread pools for this worker. Call it before any torch work: the inter-op
    pool can only be sized before its first use."""
    chosen = torch_threads_choose(
        device=device,
        setting=setting,
        workers_per_machine=workers_per_machine,
        cores=usable_cores(),
    )
    if chosen is None:
        return TorchThreads(torch.get_num_threads(), "torch's default")
    torch.set_num_threads(chosen.count)
    try:
        torch.set_num_interop_threads(chosen.count)
    except RuntimeError:
        # Already used or sized in this process; the intra-op pool, which does the sampling,
        # is sized all the same.
        log.info(
            "Torch's inter-op threads were in use already; left at %d",
            torch.get_num_interop_threads(),
        )
    # What torch reports, read in the thread that samples (OpenMP keeps the count per thread).
    return TorchThreads(torch.get_num_threads(), chosen.reason)
