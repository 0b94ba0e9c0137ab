"""What a running pipeline call tells the world after each step: throttled progress and
previews for the owners, and whether any of its generations should stop (cancelled, or handed
to another run of the generation)."""

import time
from functools import partial
from typing import Any

from generation.models import Generation
from generation.queues import cancel_requested
from generation.services import generation_progress
from worker.preview import latent_preview
from worker.progress import ProgressThrottle
from worker.recovery import best_effort
from worker.state import WorkerState

# The database copy of the progress (for the API) is written about this often; each write costs
# a round trip, so it is written less often than events go out.
RECORD_PROGRESS_SECONDS = 1.0
# A cancelled generation stops at the first step that starts after this long.
CANCEL_CHECK_SECONDS = 0.1


class GenerationsStopped(Exception):
    """Raised from the step callback once no generation in the call is still wanted."""


class StepReporter:
    """The step callback of one pipeline call over a batch of generations."""

    def __init__(
        self,
        batch: list[Generation],
        *,
        state: WorkerState,
        events_per_second: float,
        preview_interval: float,
    ) -> None:
        self.state = state
        self.live = list(batch)
        self.preview_interval = preview_interval
        self.steps = batch[0].steps
        # How many steps the call really runs, known from the pipeline at its first step (an
        # image-to-image call runs only about steps x strength of them).
        self.steps_run = self.steps
        self.events = ProgressThrottle(total=self.steps, per_second=events_per_second)
        self.records = ProgressThrottle(total=self.steps, per_second=1 / RECORD_PROGRESS_SECONDS)
        # Where each generation's first image sits in the batched latents.
        self.first_image: dict[str, int] = {}
        offset = 0
        for generation in batch:
            self.first_image[str(generation.id)] = offset
            offset += generation.count
        self.last_cancel_check = 0.0
        self.last_preview = 0.0

    def on_step_end(
        self, pipeline: Any, step_index: int, _timestep: Any, tensors: dict[str, Any]
    ) -> dict[str, Any]:
        if step_index == 0:
            self._steps_run_learn(pipeline)
        step = step_index + 1
        self._drop_unwanted()
        if self.events.due(step):
            self._report(self.step_shown(step), tensors["latents"])
        return tensors

    def _steps_run_learn(self, pipeline: Any) -> None:
        # Pipelines set this before their first step; one that does not runs `steps` of them.
        steps_run = getattr(pipeline, "num_timesteps", None)
        if isinstance(steps_run, int) and steps_run > 0:
            self.steps_run = steps_run
            self.events.total = self.records.total = steps_run

    def step_shown(self, step: int) -> int:
        """The step of the `steps` a user asked for that `step` of the call stands for.

        Image-to-image skips the first steps (the init image stands in for them) and runs only
        about steps x strength. Owners see the generation's own `steps` as the total (the API's
        progress has it too, and so does the finished generation), so the steps that run are
        spread over that total: the bar moves from 0 to the end at the pace of the real work,
        which keeps step rates and ETAs honest, and reaches the total at the last step that runs.
        """
        if self.steps_run == self.steps:
            return step
        return -(-step * self.steps // self.steps_run)  # rounded up: the last step shows `steps`

    def _drop_unwanted(self) -> None:
        now = time.monotonic()
        if now - self.last_cancel_check >= CANCEL_CHECK_SECONDS:
            self.last_cancel_check = now
            # While Redis is away nobody can cancel anyway: sampling goes on.
            live_ids = [str(generation.id) for generation in self.live]
            canceled: set[str] = best_effort(lambda: cancel_requested(live_ids), default=set())
            self._drop(canceled | self.state.lost())
        if not self.live:
            raise GenerationsStopped

    def _drop(self, generation_ids: set[str]) -> None:
        if generation_ids:
            self.live = [g for g in self.live if str(g.id) not in generation_ids]

    def _report(self, step: int, latents: Any) -> None:
        record = self.records.due(step)
        with_preview = time.monotonic() - self.last_preview >= self.preview_interval
        if with_preview:
            self.last_preview = time.monotonic()
        gone = set()
        for generation in self.live:
            preview = None
            if with_preview:
                latent = latents[self.first_image[str(generation.id)]]
                preview = latent_preview(latent, generation.model.family)
            # Progress is a report, not a result: an outage must not stop the sampling, and
            # the images can still be recorded once the database is back.
            report = partial(generation_progress, generation=generation, step=step)
            report = partial(report, preview=preview, record=record)
            if not best_effort(report, default=True):
                gone.add(str(generation.id))
        self._drop(gone)
