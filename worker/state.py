"""What this worker process is doing, shared by the job that runs and the heartbeat thread
that reports it."""

import os
import socket
import statistics
import threading
import time
from collections import deque

import torch

from generation.fleet import WorkerStatus
from generation.models import DiffusionModel, Generation
from worker.instance import instance_id, worker_pool
from worker.pipelines import pipeline_cache

# Per-image times kept per model for ETAs: enough to smooth noise, few enough to follow change.
TIMINGS_KEPT = 20


class WorkerState:
    def __init__(
        self, *, name: str, models: list[str], batch_size: int, torch_threads: int = 0
    ) -> None:
        self.name = name
        self.models = models
        self.batch_size = batch_size
        self.torch_threads = torch_threads
        self.started_at = time.time()
        self.idle_since = self.started_at
        self.pool = worker_pool()
        self.instance = instance_id()
        self.jobs_done = 0
        self.batches_run = 0
        self.largest_batch = 0
        # The runs this worker is sampling now: {generation id: run token}.
        self._current: dict[str, str] = {}
        # Of those, the ones whose lease another run holds now: they are no longer ours.
        self._lost: set[str] = set()
        self._timings: dict[str, deque[float]] = {}
        self._lines_moved: dict[int, DiffusionModel] = {}
        self._lock = threading.Lock()
        # Set whenever there is news for the heartbeat thread to send without waiting.
        self.news = threading.Event()
        self.report_due = False

    def line_moved(self, model: DiffusionModel) -> None:
        """Generations left this model's queue, so everyone behind them moved up."""
        with self._lock:
            self._lines_moved[model.pk] = model
        self.news.set()

    def lines_moved(self) -> list[DiffusionModel]:
        with self._lock:
            models, self._lines_moved = list(self._lines_moved.values()), {}
        return models

    def running(self, batch: list[Generation]) -> None:
        with self._lock:
            self._current = {str(generation.id): generation.run_token for generation in batch}
            self._lost = set()
            # Busy now: the autoscaler must not take this worker for an idle one.
            self.report_due = True
        self.news.set()

    def current(self) -> dict[str, str]:
        with self._lock:
            return dict(self._current)

    def runs_lost(self, generation_ids: set[str]) -> None:
        with self._lock:
            self._lost |= generation_ids & set(self._current)

    def lost(self) -> set[str]:
        with self._lock:
            return set(self._lost)

    def batch_done(self, batch: list[Generation]) -> None:
        with self._lock:
            self._current = {}
            self._lost = set()
            self.jobs_done += len(batch)
            self.batches_run += 1
            self.largest_batch = max(self.largest_batch, len(batch))
            self.idle_since = time.time()
            self.report_due = True
        self.news.set()

    def batch_timed(self, *, model: str, images: int, seconds: float) -> None:
        """A pipeline call made `images` images in `seconds`: it goes into this model's ETAs."""
        with self._lock:
            if images:
                timings = self._timings.setdefault(model, deque(maxlen=TIMINGS_KEPT))
                timings.append(seconds / images)
            # New timings change everyone's ETA: report them now, not at the next beat.
            self.report_due = True
        self.news.set()

    def status(self) -> WorkerStatus:
        cache = pipeline_cache()
        gpu_name, gpu_memory = "", 0.0
        if cache.device == "cuda":
            properties = torch.cuda.get_device_properties(0)
            gpu_name, gpu_memory = properties.name, round(properties.total_memory / 2**30, 1)
        with self._lock:
            return WorkerStatus(
                name=self.name,
                host=socket.gethostname(),
                pid=os.getpid(),
                device=cache.device,
                models=self.models,
                started_at=self.started_at,
                gpu_name=gpu_name,
                gpu_memory_gb=gpu_memory,
                torch_threads=self.torch_threads,
                loaded_models=cache.loaded(),
                pipeline_loads=cache.loads,
                current_generations=list(self._current),
                jobs_done=self.jobs_done,
                batches_run=self.batches_run,
                largest_batch=self.largest_batch,
                seconds_per_image={
                    model: round(statistics.median(timings), 4)
                    for model, timings in self._timings.items()
                },
                seen_at=time.time(),
                pool=self.pool,
                instance=self.instance,
                idle_since=self.idle_since,
            )


_state: WorkerState | None = None


def worker_state_set(state: WorkerState) -> None:
    global _state
    _state = state


def worker_state() -> WorkerState:
    """The state of this worker process; a plain RQ worker running our jobs gets a default."""
    global _state
    if _state is None:
        _state = WorkerState(name=f"{socket.gethostname()}-{os.getpid()}", models=[], batch_size=1)
    return _state
