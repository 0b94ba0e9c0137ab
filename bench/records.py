"""Where benchmark figures are kept: one JSON line per run in bench/results/<benchmark>.jsonl,
with the machine it ran on, so that figures from different machines are never compared."""

import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _gpu() -> str | None:
    try:
        names = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return None
    return ", ".join(name.strip() for name in names if name.strip()) or None


def machine() -> dict[str, Any]:
    return {
        "host": platform.node(),
        "cores": len(os.sched_getaffinity(0)),
        "cpu": platform.processor() or platform.machine(),
        "gpu": _gpu(),
    }


def record_append(benchmark: str, figures: dict[str, Any]) -> Path:
    """Append one run's figures (with when and where it ran) and return the file."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{benchmark}.jsonl"
    record = {"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(), **figures}
    with path.open("a") as file:
        file.write(json.dumps(record) + "\n")
    return path
