"""The local workers' log files, and copying what they add to the controller's output, so that
`make run` still shows what its workers do (prefixed with each worker's name)."""

import sys
from pathlib import Path
from typing import BinaryIO

# At most this much of a worker's new output is copied per round: a chatty worker cannot hold up
# the controller.
COPY_BYTES = 256 * 1024


class WorkerLogs:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # How far each worker's file has been copied; a worker adopted from an earlier
        # controller is copied from where its file is now, not replayed.
        self._copied: dict[str, int] = {}

    def create(self, instance: str) -> BinaryIO:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._copied[instance] = 0
        return (self.folder / f"{instance}.log").open("wb")

    def copy(self, instance: str) -> None:
        path = self.folder / f"{instance}.log"
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return
        start = self._copied.setdefault(instance, size)
        if size <= start:
            return
        with path.open("rb") as log:
            log.seek(start)
            chunk = log.read(COPY_BYTES)
        # Only whole lines; the rest waits for the next round.
        whole = chunk[: chunk.rfind(b"\n") + 1]
        self._copied[instance] = start + len(whole)
        for line in whole.decode(errors="replace").splitlines():
            sys.stdout.write(f"[{instance}] {line}\n")
        sys.stdout.flush()

    def forget(self, instance: str) -> None:
        self._copied.pop(instance, None)
