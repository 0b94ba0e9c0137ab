"""Services a test can take down and bring back: a private PostgreSQL cluster and a private
redis-server, each on its own free port, so that restarting them disturbs nothing else on the
machine (not the session's Redis, not the shared PostgreSQL other tests use)."""

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from testing.ports import free_port, wait_for_port


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL's server binaries are not installed (Debian: postgresql).")
    return found[-1]


def _as_postgres(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temporary folder, trusting local connections."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="rollerai-test-pg-"))
        self.data = self.folder / "data"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [_postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.start()
        subprocess.run(
            _as_postgres(
                [_postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "rollerai"]
            ),
            check=True,
            env={**os.environ, "PGUSER": "postgres"},
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/rollerai"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([_postgres_bin("pg_ctl"), "-D", str(self.data), "-w", *args]),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder}"
        )
        self._ctl("-o", options, "-l", str(self.folder / "server.log"), "start")
        wait_for_port(self.port, what="private PostgreSQL")

    def stop(self) -> None:
        # "fast" is what a restart by an operator does: connections are cut, work is rolled back.
        self._ctl("-m", "fast", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """A redis-server with no persistence: stopped and started again, it comes back empty, as a
    production Redis used only for queues does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="rollerai-test-redis-")
        self._server: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._server = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                *f"--port {self.port} --bind 127.0.0.1 --appendonly no --dir {self.folder}".split(),
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, what="private Redis")

    def stop(self) -> None:
        if self._server is not None:
            self._server.kill()
            self._server.wait(timeout=10)
            self._server = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def seconds_until(condition: object, *, timeout: float, interval: float = 0.1) -> float:
    """How long until `condition()` holds; fails the test after `timeout` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(interval)
    raise AssertionError(f"still not so after {timeout:.0f} s")
