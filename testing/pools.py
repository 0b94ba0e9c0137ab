"""What the autoscaler's controller reports about a pool each round, for tests of the pages, the
API and /metrics that read it (the controller itself is tested writing it, in
worker/tests/test_autoscale_local.py)."""

import time
from typing import Any

from generation.fleet import PoolReport, pool_report_write


def pool_reported(**fields: Any) -> PoolReport:
    """Writes the report of a pool (by default: `default`, local, serving tiny-demo, at zero
    with one job queued), with `fields` changed, as the controller would."""
    values: dict[str, Any] = {
        "name": "default",
        "backend": "local",
        "models": ["tiny-demo"],
        "min_workers": 0,
        "max_workers": 1,
        "live": 0,
        "starting": 0,
        "starting_since": None,
        "busy": 0,
        "desired": 0,
        "queued_jobs": 1,
        "cold_start_seconds": 60.0,
        "cold_start_measured": True,
        "seconds_per_image": None,
        "starts": 0,
        "stops": 0,
        "last_decision": "",
        "updated_at": time.time(),
        **fields,
    }
    report = PoolReport(**values)
    pool_report_write(report)
    return report
