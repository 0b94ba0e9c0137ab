"""What every backend offers the controller: list the pool's workers, start some, stop these.

A backend only carries out decisions; it never decides. Each call may raise `BackendError`
(quota, a 5xx, the platform unreachable): the controller logs it and tries again later, with
backoff, and never crashes for it.
"""

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from worker.autoscaler.pools import PoolSpec


class BackendError(Exception):
    """The platform refused or failed a request; the message says what it said."""


@dataclass(frozen=True)
class PlatformWorker:
    """A worker as the platform knows it, started or starting.

    `id` is the platform's name for it (a pid, a pod's name, an ECS task id, a RunPod pod id).
    The worker reports the same id as the `instance` in its heartbeat (see
    worker.instance.instance_id), which is how the controller tells a worker that is up from one
    still starting.
    """

    id: str
    # When it was asked for (epoch seconds): a cold start is measured from here.
    started_at: float
    # Asked to stop and draining (finishing its job); no longer counted as capacity.
    stopping: bool = False


class Backend(ABC):
    # The name used in the admin and in AUTOSCALER_BACKEND.
    kind: ClassVar[str]

    def __init__(self, pool: PoolSpec) -> None:
        self.pool = pool

    @classmethod
    def settings_problems(cls, settings: dict[str, Any]) -> list[str]:
        """What is wrong with a pool's backend_settings for this backend, in words for the
        admin form (nothing, if it will work)."""
        return []

    @abstractmethod
    def workers(self) -> list[PlatformWorker]:
        """Every worker of this pool the platform has started or is starting, draining ones
        included (marked `stopping`)."""

    @abstractmethod
    def start(self, count: int) -> None:
        """Ask for `count` more workers."""

    @abstractmethod
    def stop(self, workers: Sequence[PlatformWorker]) -> None:
        """Stop these (idle) workers: each gets SIGTERM, finishes what it holds, and exits.
        The pool's other workers must be left running."""

    def close(self) -> None:  # noqa: B027 (most backends hold nothing to let go of)
        """Let go of clients and connections (the controller is stopping)."""


class Placeholders:
    """Workers a platform was asked for (a replica count, a desired count) that it has not
    created yet: just scaled, or held back by a quota. They are capacity that is coming, so the
    controller must see them as starting, since the last scale-up."""

    def __init__(self) -> None:
        self._since: float | None = None

    def scaled_up(self) -> None:
        self._since = time.time()

    def added(self, found: list[PlatformWorker], asked_for: int) -> list[PlatformWorker]:
        missing = asked_for - sum(1 for worker in found if not worker.stopping)
        if missing <= 0:
            self._since = None
            return found
        if self._since is None:
            self._since = time.time()
        since = self._since
        return found + [
            PlatformWorker(id=f"pending-{index}", started_at=since) for index in range(missing)
        ]
