"""Sockets give back what they held: after many browsers open the live feed at once and leave,
the web process holds about as many Redis connections as before (each costs Redis memory and a
file descriptor, and Redis refuses clients past maxclients)."""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast

import psutil
import pytest
from django.contrib.auth.models import User
from django.test import Client

from rollerai.connections import redis_connection
from testing.processes import RunningProcess, web_server_start
from testing.websocket import LiveSocket

pytestmark = pytest.mark.django_db(transaction=True)

SOCKETS = 200
# Browsers arriving together: their handshakes, and so their Redis commands, overlap.
AT_ONCE = 50


@pytest.fixture
def web_process(tmp_path: Path) -> Iterator[tuple[RunningProcess, str]]:
    # Idle connections are closed after a second here (30 s by default), to keep the test short.
    server, url = web_server_start(
        tmp_path / "daphne.log", env={"REDIS_IDLE_CONNECTION_SECONDS": "1"}
    )
    yield server, url
    server.stop()


def redis_connections_of(server: RunningProcess) -> int:
    """Redis's own count (CLIENT LIST) of client connections from the web process's addresses."""
    ours = {
        f"{socket.laddr.ip}:{socket.laddr.port}"
        for socket in psutil.Process(server.process.pid).net_connections(kind="tcp")
        if socket.raddr
    }
    clients = cast(list[dict[str, str]], redis_connection().client_list())
    return sum(1 for client in clients if client["addr"] in ours)


def settled_connections_of(server: RunningProcess, *, at_most: int, within: float) -> int:
    deadline = time.monotonic() + within
    while (count := redis_connections_of(server)) > at_most and time.monotonic() < deadline:
        time.sleep(0.5)
    return count


def test_sockets_that_closed_leave_no_redis_connections_behind(
    web_process: tuple[RunningProcess, str], user: User
) -> None:
    server, url = web_process
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    LiveSocket(url, cookie=cookie, origin=url).close()
    before = settled_connections_of(server, at_most=2, within=10)

    with ThreadPoolExecutor(max_workers=AT_ONCE) as browsers:
        sockets = list(
            browsers.map(lambda _: LiveSocket(url, cookie=cookie, origin=url), range(SOCKETS))
        )
        assert all(socket.is_open for socket in sockets)
        list(browsers.map(LiveSocket.close, sockets))

    # What the burst opened is closed once it has been idle for a second.
    assert settled_connections_of(server, at_most=before + 2, within=15) <= before + 2
