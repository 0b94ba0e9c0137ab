"""`make run` keeps the site up when one of its processes exits: scripts/respawn, which runs each
Procfile line, starts that process again (and says so), and stops it for good on SIGTERM or
SIGINT, so Ctrl-C under honcho still stops everything."""

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from testing.outage import seconds_until
from testing.ports import free_port, wait_for_port
from testing.processes import BASE_DIR, RunningProcess, process_environment

RESPAWN = str(BASE_DIR / "scripts" / "respawn")
# A child that says which process it is, then waits to be stopped.
SLEEPER = "import os, time; print('sleeper', os.getpid(), flush=True); time.sleep(600)"


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not collected it yet.
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"


def _one_child(pid: int) -> int:
    seconds_until(lambda: len(_children(pid)) == 1, timeout=30)
    return _children(pid)[0]


@pytest.fixture
def respawned_web_server(
    transactional_db: None, tmp_path: Path
) -> Iterator[tuple[RunningProcess, str]]:
    port = free_port()
    wrapper = RunningProcess(
        [
            RESPAWN,
            "web",
            sys.executable,
            "-m",
            "rollerai.webserver",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "rollerai.asgi:application",
        ],
        log_path=tmp_path / "respawn.log",
        env=process_environment(),
    )
    wait_for_port(port, what="web server")
    yield wrapper, f"http://127.0.0.1:{port}"
    wrapper.stop(signal.SIGKILL)


def test_a_killed_web_server_comes_back_and_sigterm_stops_both(
    respawned_web_server: tuple[RunningProcess, str],
) -> None:
    wrapper, url = respawned_web_server
    server = _one_child(wrapper.process.pid)
    health = requests.get(f"{url}/healthz", timeout=10)
    assert health.status_code == 200, health.text

    os.kill(server, signal.SIGKILL)
    wrapper.wait_for_output("web was killed by signal 9; starting it again in 1 s")
    again = _one_child(wrapper.process.pid)
    assert again != server

    def answers() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    seconds_until(answers, timeout=60)

    wrapper.process.send_signal(signal.SIGTERM)
    wrapper.process.wait(timeout=30)
    assert not _alive(again)
    # Stopped on purpose, it is not started again.
    assert wrapper.output().count("starting it again") == 1


def test_a_process_that_keeps_failing_is_started_again_less_and_less_often(
    tmp_path: Path,
) -> None:
    wrapper = RunningProcess(
        [RESPAWN, "worker", sys.executable, "-c", "import sys; sys.exit(1)"],
        log_path=tmp_path / "respawn.log",
        env=dict(os.environ),
    )
    try:
        wrapper.wait_for_output("worker exited with status 1; starting it again in 1 s")
        wrapper.wait_for_output("worker exited with status 1; starting it again in 2 s")
        wrapper.wait_for_output("worker exited with status 1; starting it again in 4 s")
        # Stopped while it waits to start the process again, it does not start it.
        wrapper.process.send_signal(signal.SIGINT)
        assert wrapper.process.wait(timeout=10) == 0
    finally:
        wrapper.stop(signal.SIGKILL)
    assert wrapper.output().count("starting it again") == 3


def test_ctrl_c_under_honcho_stops_everything_after_a_restart(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        f'first: {RESPAWN} first {sys.executable} -c "{SLEEPER}"\n'
        f'second: {RESPAWN} second {sys.executable} -c "{SLEEPER}"\n'
    )
    honcho = RunningProcess(
        [str(Path(sys.executable).parent / "honcho"), "start", "-f", str(procfile)],
        log_path=tmp_path / "honcho.log",
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        seconds_until(lambda: honcho.output().count("sleeper") == 2, timeout=30)
        first_pid = next(
            int(line.split()[-1])
            for line in honcho.output().splitlines()
            if " first" in line.split("|")[0] and "sleeper" in line
        )
        os.kill(first_pid, signal.SIGKILL)
        honcho.wait_for_output("first was killed by signal 9; starting it again in 1 s")
        seconds_until(lambda: honcho.output().count("sleeper") == 3, timeout=30)
        # honcho stops everything when one of its processes exits; this one never did.
        assert honcho.process.poll() is None
        sleepers = [
            int(line.split()[-1]) for line in honcho.output().splitlines() if "sleeper" in line
        ]

        honcho.process.send_signal(signal.SIGINT)
        assert honcho.process.wait(timeout=30) is not None
        time.sleep(0.5)
        assert [pid for pid in sleepers if _alive(pid)] == []
        assert honcho.output().count("starting it again") == 1
    finally:
        honcho.stop(signal.SIGKILL)
