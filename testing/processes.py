"""Real RollerAI processes for tests: GPU workers, the HTTP server (gunicorn), the live-events
server (daphne), as subprocesses that share the test session's database, Redis and storage."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.db import connection

from testing.ports import free_port, wait_for_port

BASE_DIR = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """The URL of the database pytest-django created, for processes outside the test run."""
    config: dict[str, Any] = connection.settings_dict
    if config["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{config['NAME']}"
    user = config.get("USER") or ""
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    credentials = f"{user}{password}@" if user else ""
    return (
        f"postgres://{credentials}{config.get('HOST') or '127.0.0.1'}:{config.get('PORT') or 5432}/"
        f"{config['NAME']}"
    )


def process_environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_database_url(),
        DJANGO_SETTINGS_MODULE="rollerai.settings",
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class RunningProcess:
    """A subprocess whose combined output goes to a log file the test can read."""

    def __init__(self, args: list[str], *, log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            args, cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, text: str, *, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} did not appear in the output:\n{self.output()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


def gpu_worker_start(log_path: Path, *args: str, **env: str) -> RunningProcess:
    worker = RunningProcess(
        [sys.executable, "manage.py", "rungpuworker", *args],
        log_path=log_path,
        env=process_environment(**env),
    )
    # RQ prints this once it blocks on its queues, i.e. once it can take jobs.
    worker.wait_for_output("Listening on", timeout=120)
    return worker


def web_server_start(
    log_path: Path, *, port: int | None = None, env: dict[str, str] | None = None
) -> tuple[RunningProcess, str]:
    """With `env`, the server reaches other services than the session's (a private database or
    Redis a test takes down); with `port`, it comes back where an open page expects it."""
    port = port or free_port()
    server = RunningProcess(
        [
            sys.executable,
            "-m",
            "rollerai.webserver",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "rollerai.asgi:application",
        ],
        log_path=log_path,
        env=process_environment(**(env or {})),
    )
    wait_for_port(port, what="web server")
    return server, f"http://127.0.0.1:{port}"


class SiteURL(str):
    """The address of a site's pages and API, which also knows where its live-events websocket
    server is (the `live` process, on a port of its own as under `make run`)."""

    live_url: str

    def __new__(cls, url: str, *, live_url: str) -> "SiteURL":
        site = super().__new__(cls, url)
        site.live_url = live_url
        return site


def http_server_start(
    log_path: Path,
    *,
    port: int | None = None,
    processes: int = 1,
    env: dict[str, str] | None = None,
) -> tuple[RunningProcess, str]:
    """The production HTTP server, exactly as the Procfile's `web` line runs it."""
    port = port or free_port()
    server = RunningProcess(
        [sys.executable, "-m", "gunicorn", "-c", "python:rollerai.httpserver", "rollerai.wsgi"],
        log_path=log_path,
        env=process_environment(
            ROLLERAI_PORT=str(port), WEB_PROCESSES=str(processes), **(env or {})
        ),
    )
    wait_for_port(port, what="HTTP server")
    return server, f"http://127.0.0.1:{port}"


def site_start(
    log_dir: Path, *, env: dict[str, str] | None = None
) -> tuple[list[RunningProcess], SiteURL]:
    """The site as production runs it: gunicorn for HTTP and daphne for websockets, with pages
    told to open their socket on daphne's port."""
    live_port = free_port()
    live_url = f"http://127.0.0.1:{live_port}"
    env = {"LIVE_EVENTS_URL": f"ws://127.0.0.1:{live_port}/ws/generations/", **(env or {})}
    live, _ = web_server_start(log_dir / "live.log", port=live_port, env=env)
    http, url = http_server_start(log_dir / "web.log", env=env)
    return [http, live], SiteURL(url, live_url=live_url)
