"""Every write to a generation, one module per moment of its life:

- `submit`: asked for (from a prompt, an image, or as variations or an upscale of an image),
  charged, put in line;
- `cancel`: cancelled by its owner, with a refund;
- `run`: claimed by a worker as a run, progress, succeeded / failed / handed back;
- `maintenance`: the reaper and the reconciler, for runs and jobs that were lost;
- `library`: shared, made private or deleted once done (with its files);
- `standings`: owners told where they stand in line;
- `transitions`: the moves the others share (the row lock, ending with a refund, lining up);
- `registry`: the models workers can load.

The names below are the ones callers use; import them from here.
"""

from generation.services.cancel import generation_cancel
from generation.services.library import (
    generation_delete,
    generation_visibility_set,
    generations_delete_all,
)
from generation.services.maintenance import MAX_ATTEMPTS, generations_reap, generations_reconcile
from generation.services.registry import diffusion_model_register
from generation.services.run import (
    StoredImage,
    generation_batch_claim,
    generation_progress,
    generation_release,
    generation_run_fail,
    generation_start,
    generation_start_from_queue,
    generation_succeed,
    runs_current,
)
from generation.services.standings import standings_publish
from generation.services.submit import (
    generation_submit,
    generation_upscale_submit,
    generation_variations_submit,
)
from generation.services.transitions import generation_fail

__all__ = [
    "MAX_ATTEMPTS",
    "StoredImage",
    "diffusion_model_register",
    "generation_batch_claim",
    "generation_cancel",
    "generation_delete",
    "generation_fail",
    "generation_progress",
    "generation_release",
    "generation_run_fail",
    "generation_start",
    "generation_start_from_queue",
    "generation_submit",
    "generation_succeed",
    "generation_upscale_submit",
    "generation_variations_submit",
    "generation_visibility_set",
    "generations_delete_all",
    "generations_reap",
    "generations_reconcile",
    "runs_current",
    "standings_publish",
]
