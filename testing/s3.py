"""moto's S3 server on loopback, for tests of the S3 storage path (DESIGN.md section 5)."""

import os
import sys
from pathlib import Path

from testing.ports import free_port, wait_for_port
from testing.processes import RunningProcess

# moto accepts any credentials; these only have to be present.
S3_REGION = "us-east-1"
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def s3_server_start(log_path: Path, port: int | None = None) -> tuple[RunningProcess, str]:
    """moto's server mode in its own process (on `port`, to start one again where a stopped one
    was); returns it and its endpoint URL."""
    port = port or free_port()
    server = RunningProcess(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        log_path=log_path,
        env={**os.environ, **S3_CREDENTIALS},
    )
    wait_for_port(port, what="moto S3 server")
    return server, f"http://127.0.0.1:{port}"
