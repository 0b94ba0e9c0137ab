"""API keys: made on the account page and shown once, stored only as a hash, accepted by the
JSON API and the websocket until revoked, and never a way into somebody else's data."""

import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import ApiKey
from generation.models import DiffusionModel
from rollerai.asgi import application
from testing.api import generation_post


def key_create(client: Client, name: str = "render script") -> str:
    page = client.post("/accounts/api-keys/", {"name": name}, follow=True).content.decode()
    match = re.search(r'<p class="key">(rai_[\w-]+)</p>', page)
    assert match, page
    return match.group(1)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_new_key_is_shown_once_and_stored_only_as_a_hash(
    alice_client: Client, user: User
) -> None:
    key = key_create(alice_client)

    [stored] = ApiKey.objects.filter(user=user)
    assert stored.name == "render script"
    assert key not in (stored.key_hash, stored.prefix)
    assert key.startswith(stored.prefix)
    assert key not in alice_client.get("/accounts/").content.decode()


def test_making_a_key_redirects_so_a_reload_makes_no_second_key(
    alice_client: Client, user: User
) -> None:
    response = alice_client.post("/accounts/api-keys/", {"name": "render script"})

    assert response.status_code == 303
    assert response["Location"] == "/accounts/#api-keys"
    first = alice_client.get(response["Location"]).content.decode()
    [stored] = ApiKey.objects.filter(user=user)
    assert f"<strong>{stored.name}</strong>" in first
    assert re.search(r'<p class="key">rai_[\w-]+</p>', first)
    reloaded = alice_client.get(response["Location"]).content.decode()
    assert 'id="new-key"' not in reloaded
    assert ApiKey.objects.filter(user=user).count() == 1


def test_a_key_without_a_name_is_refused(alice_client: Client) -> None:
    page = alice_client.post("/accounts/api-keys/", {"name": "  "}).content.decode()

    assert "Give the key a name" in page
    assert not ApiKey.objects.exists()


def test_the_api_accepts_a_key_without_cookies_or_csrf(
    alice_client: Client, tiny_model: DiffusionModel
) -> None:
    key = key_create(alice_client)
    api = Client(enforce_csrf_checks=True)

    me = api.get("/api/v1/me", headers=bearer(key))
    submitted = generation_post(api, headers=bearer(key))

    assert me.json() == {"username": "alice", "credits": 10}
    assert submitted.status_code == 202
    assert api.get("/api/v1/me", headers=bearer(key)).json()["credits"] == 9


def test_a_revoked_key_is_refused(alice_client: Client, user: User) -> None:
    key = key_create(alice_client)
    api_key = ApiKey.objects.get(user=user)

    alice_client.post(f"/accounts/api-keys/{api_key.id}/revoke/")
    response = Client().get("/api/v1/me", headers=bearer(key))

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "invalid_api_key",
        "message": "This API key is unknown or has been revoked.",
        "field": None,
    }


def test_a_key_reads_only_its_owners_data(
    alice_client: Client, bob_client: Client, tiny_model: DiffusionModel
) -> None:
    bobs_generation = generation_post(bob_client).json()["id"]
    alices_key = key_create(alice_client)
    api = Client()

    assert (
        api.get(f"/api/v1/generations/{bobs_generation}", headers=bearer(alices_key)).status_code
        == 404
    )
    assert api.get("/api/v1/generations", headers=bearer(alices_key)).json()["results"] == []
    assert (
        api.post(
            f"/api/v1/generations/{bobs_generation}/cancel", headers=bearer(alices_key)
        ).status_code
        == 404
    )


def test_a_malformed_authorization_header_is_401(db: None) -> None:
    response = Client().get("/api/v1/me", headers={"Authorization": "Basic abc"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_authorization"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("own_channel_layer")
async def test_the_websocket_accepts_a_key_as_subprotocol(
    alice_client: Client, user: User, tiny_model: DiffusionModel
) -> None:
    key = await sync_to_async(key_create)(alice_client)
    # API clients send no Origin header; the key alone identifies them.
    socket = WebsocketCommunicator(application, "/ws/generations/", subprotocols=["bearer", key])
    connected, subprotocol = await socket.connect()
    assert connected and subprotocol == "bearer"

    generation_id = (await sync_to_async(generation_post)(alice_client)).json()["id"]

    seen = [await socket.receive_json_from(timeout=10) for _ in range(2)]
    assert {"type": "balance", "credits": 9} in seen
    assert any(event.get("id") == generation_id for event in seen)
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_websocket_refuses_an_unknown_key(db: None) -> None:
    socket = WebsocketCommunicator(
        application, "/ws/generations/", subprotocols=["bearer", "rai_not-a-real-key"]
    )
    connected, _ = await socket.connect()

    assert not connected
