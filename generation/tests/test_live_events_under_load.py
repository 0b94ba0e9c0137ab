"""Under load the channel layer drops messages; an open page may then miss progress, but never
how a generation ended, nor a balance change. Real daphne, real Redis, a real websocket client.

channels-redis checks capacity where a message is sent (the receiving process's queue in
Redis) and group membership expiry there too, so the test process, which publishes here, is
given the same tight settings as the web process it starts."""

import contextlib
import copy
import queue
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from billing.selectors import balance_for
from generation.models import DiffusionModel, Generation
from generation.services.run import generation_progress, generation_start
from testing.api import generation_submitted
from testing.processes import RunningProcess, web_server_start
from testing.websocket import LiveSocket

pytestmark = pytest.mark.django_db(transaction=True)

# Messages one web process's queue in Redis may hold before channels-redis drops new ones.
TINY_CAPACITY = 10
STEPS = 50
# Progress of the user's other generation, for each step of the one watched.
FLOOD_PER_STEP = 20


def layer_settings(settings: Any, **config: Any) -> None:
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"].update(config)
    settings.CHANNEL_LAYERS = layers


@pytest.fixture
def sockets() -> Iterator[list[LiveSocket]]:
    opened: list[LiveSocket] = []
    yield opened
    for socket in opened:
        socket.close()


@pytest.fixture
def servers() -> Iterator[list[RunningProcess]]:
    started: list[RunningProcess] = []
    yield started
    for server in started:
        server.stop()


def site(
    tmp_path: Path,
    servers: list[RunningProcess],
    client: Client,
    sockets: list[LiveSocket],
    **env: str,
) -> tuple[RunningProcess, LiveSocket]:
    """A web process with `env`, and the user's page on it, listening."""
    server, url = web_server_start(tmp_path / "daphne.log", env=env)
    servers.append(server)
    socket = LiveSocket(url, cookie=f"sessionid={client.cookies['sessionid'].value}", origin=url)
    sockets.append(socket)
    assert socket.is_open
    return server, socket


def running(client: Client) -> Generation:
    """One of the user's generations, submitted and claimed, as a worker would."""
    generation = generation_start(
        generation_id=generation_submitted(client, steps=STEPS), worker_name="test-worker"
    )
    assert generation is not None
    return generation


@contextlib.contextmanager
def falling_behind(server: RunningProcess) -> Iterator[None]:
    """The web process stops taking messages for a while (here: it is paused, as a process
    starved of CPU would be), so its queue in Redis fills up and channels-redis drops the rest."""
    server.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        server.process.send_signal(signal.SIGCONT)


def events_until(socket: LiveSocket, generation_id: str, status: str, timeout: float) -> list[Any]:
    """Everything the socket hears until `status` of the generation (then a little more, to
    catch what would arrive late)."""
    heard: list[Any] = []
    deadline = time.monotonic() + timeout
    while not any(e.get("id") == generation_id and e.get("status") == status for e in heard):
        try:
            heard.append(socket.messages.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            raise AssertionError(f"no {status!r} within {timeout} s; last: {heard[-3:]}") from None
    return heard + socket_drained(socket, seconds=1.0)


def socket_drained(socket: LiveSocket, *, seconds: float) -> list[Any]:
    time.sleep(seconds)
    heard = []
    while not socket.messages.empty():
        heard.append(socket.messages.get_nowait())
    return heard


def test_in_a_flood_of_progress_the_end_and_the_refund_still_arrive_in_order(
    tmp_path: Path,
    settings: Any,
    servers: list[RunningProcess],
    sockets: list[LiveSocket],
    tiny_model: DiffusionModel,
    alice_client: Client,
    user: User,
) -> None:
    layer_settings(settings, capacity=TINY_CAPACITY)
    server, socket = site(
        tmp_path, servers, alice_client, sockets, CHANNEL_LAYER_CAPACITY=str(TINY_CAPACITY)
    )
    watched, busy = running(alice_client), running(alice_client)

    with falling_behind(server):
        for step in range(1, STEPS):
            generation_progress(generation=watched, step=step, record=False)
            for _ in range(FLOOD_PER_STEP):
                generation_progress(generation=busy, step=step, record=False)
        cancel = alice_client.post(f"/api/v1/generations/{watched.id}/cancel")
    assert cancel.status_code == 200
    heard = events_until(socket, str(watched.id), "canceled", timeout=10)

    progress = [i for i, event in enumerate(heard) if event.get("status") == "running"]
    # The flood was thinned: most of it never reached the page ...
    assert len(progress) < STEPS * FLOOD_PER_STEP / 2
    # ... but the refund and the end came, after all the progress the page saw, in order.
    assert [(e["type"], e.get("id"), e.get("status"), e.get("credits")) for e in heard][
        progress[-1] + 1 :
    ] == [
        ("balance", None, None, balance_for(user)),
        ("generation", str(watched.id), "canceled", None),
    ]


def test_an_end_whose_message_was_dropped_still_reaches_the_page_within_seconds(
    tmp_path: Path,
    settings: Any,
    servers: list[RunningProcess],
    sockets: list[LiveSocket],
    tiny_model: DiffusionModel,
    alice_client: Client,
    user: User,
) -> None:
    _, socket = site(tmp_path, servers, alice_client, sockets)
    # With no room at all, channels-redis drops every message this process sends, just as it
    # drops those that find a web process's queue full.
    layer_settings(settings, capacity=0)
    generation_id = generation_submitted(alice_client)
    cancel = alice_client.post(f"/api/v1/generations/{generation_id}/cancel")
    assert cancel.status_code == 200

    # A socket is sent to read its log once two checks in a row found it behind.
    within = 2 * settings.LIVE_EVENTS_CHECK_SECONDS + 3
    heard = events_until(socket, generation_id, "canceled", timeout=within)

    # "queued" may be lost (it is not kept); the end and the balance changes are not, in order.
    assert [(e["type"], e.get("status"), e.get("credits")) for e in heard] == [
        ("balance", None, balance_for(user) - cancel.json()["credits_charged"]),
        ("balance", None, balance_for(user)),
        ("generation", "canceled", None),
    ]


def test_a_page_open_longer_than_the_group_expiry_still_hears_progress(
    tmp_path: Path,
    settings: Any,
    servers: list[RunningProcess],
    sockets: list[LiveSocket],
    tiny_model: DiffusionModel,
    alice_client: Client,
) -> None:
    expiry = 3
    layer_settings(settings, group_expiry=expiry)
    _, socket = site(
        tmp_path, servers, alice_client, sockets, CHANNEL_LAYER_GROUP_EXPIRY_SECONDS=str(expiry)
    )
    generation = running(alice_client)
    socket_drained(socket, seconds=2 * expiry + 1)

    generation_progress(generation=generation, step=3, record=False)

    event = socket.next_event("generation")
    assert (event["status"], event["step"]) == ("running", 3)
