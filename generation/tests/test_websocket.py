"""/ws/generations/: a signed-in user's browser hears about their own generations, live and in
order, and about nobody else's."""

import asyncio
import base64
import io
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from PIL import Image

from generation.consumers import CLOSE_NOT_AUTHENTICATED
from rollerai.asgi import application
from testing.api import generation_submitted
from testing.processes import RunningProcess

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("own_channel_layer"),
]


def socket_for(client: Client | None, origin: bytes = b"http://localhost") -> WebsocketCommunicator:
    headers = [(b"host", b"localhost"), (b"origin", origin)]
    if client is not None:
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(application, "/ws/generations/", headers=headers)


async def submit(client: Client, **fields: Any) -> str:
    return await sync_to_async(generation_submitted)(client, **fields)


async def generation_event(socket: WebsocketCommunicator, timeout: float = 10) -> Any:
    """The next generation event; balance events in between are skipped."""
    while True:
        event = await socket.receive_json_from(timeout=timeout)
        if event["type"] == "generation":
            return event


async def events_until_finished(socket: WebsocketCommunicator, generation_id: str) -> list[Any]:
    events = []
    while True:
        event = await generation_event(socket, timeout=60)
        assert event["id"] == generation_id
        events.append(event)
        if event["status"] in ("succeeded", "failed", "canceled"):
            return events


async def test_the_owner_sees_queued_then_rising_steps_then_the_images(
    gpu_worker: RunningProcess, alice_client: Client
) -> None:
    socket = socket_for(alice_client)
    connected, _ = await socket.connect()
    assert connected

    generation_id = await submit(alice_client, steps=12, width=64, height=64)
    events = await events_until_finished(socket, generation_id)
    await socket.disconnect()

    statuses = [event["status"] for event in events]
    assert statuses[0] == "queued" and events[0]["position"] == 1
    assert statuses[-1] == "succeeded"
    running = [event for event in events if event["status"] == "running"]
    assert statuses == ["queued"] + ["running"] * len(running) + ["succeeded"]
    steps = [event["step"] for event in running]
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == 12
    assert all(event["total"] == 12 for event in running)
    previews = [event["preview"] for event in running if "preview" in event]
    assert previews and previews[0].startswith("data:image/webp;base64,")
    preview = Image.open(io.BytesIO(base64.b64decode(previews[0].split(",", 1)[1])))
    assert preview.format == "WEBP" and max(preview.size) <= 128
    [image] = events[-1]["images"]
    assert image["url"] == f"/images/{generation_id}/0.png"
    assert (image["width"], image["height"]) == (64, 64)


async def test_nobody_else_hears_about_a_generation(
    alice_client: Client, bob_client: Client, tiny_model: Any
) -> None:
    alice_socket, bob_socket = socket_for(alice_client), socket_for(bob_client)
    assert (await alice_socket.connect())[0] and (await bob_socket.connect())[0]

    generation_id = await submit(alice_client)

    assert (await generation_event(alice_socket))["id"] == generation_id
    assert await bob_socket.receive_nothing(timeout=1)
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_a_socket_stays_open_for_longer_than_redis_socket_timeouts(
    alice_client: Client, tiny_model: Any
) -> None:
    # redis-py 8 with channels-redis dropped consumers about 6 s after connecting (DESIGN.md 9).
    socket = socket_for(alice_client)
    assert (await socket.connect())[0]
    await asyncio.sleep(7)

    generation_id = await submit(alice_client)

    event = await generation_event(socket)
    assert (event["id"], event["status"]) == (generation_id, "queued")
    await socket.disconnect()


async def test_anonymous_sockets_are_closed(db: None) -> None:
    socket = socket_for(None)
    connected, code = await socket.connect()

    assert not connected
    assert code == CLOSE_NOT_AUTHENTICATED


async def test_sockets_opened_from_other_sites_are_refused(alice_client: Client) -> None:
    socket = socket_for(alice_client, origin=b"https://evil.example")
    connected, _ = await socket.connect()

    assert not connected
