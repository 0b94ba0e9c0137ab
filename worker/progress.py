"""How often a running generation reports its progress."""

import time
from collections.abc import Callable


class ProgressThrottle:
    """Lets through at most `per_second` step reports, but always the first and the last step,
    so the browser sees work begin and end however fast the steps are."""

    def __init__(
        self, *, total: int, per_second: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.total = total
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.clock = clock
        self.last_report: float | None = None

    def due(self, step: int) -> bool:
        now = self.clock()
        if (
            step in (1, self.total)
            or self.last_report is None
            or now - self.last_report >= self.interval
        ):
            self.last_report = now
            return True
        return False
