"""Only Discord's signed, fresh interactions are answered; anything else is a 401 that changes
nothing."""

import json
import time

import pytest
from django.contrib.auth.models import User
from django.test import Client
from nacl.signing import SigningKey
from pytest_django.fixtures import Settings

from discordbot.models import DiscordMessage
from discordbot.tests.conftest import command, signed_post
from generation.models import DiffusionModel, Generation

pytestmark = pytest.mark.django_db


def test_a_signed_ping_gets_a_pong(discord_settings: Settings, signing_key: SigningKey) -> None:
    response = signed_post(Client(), signing_key, {"type": 1, "id": "1", "token": "t"})

    assert response.status_code == 200
    assert response.json() == {"type": 1}


def test_a_signed_imagine_is_processed(
    discord_settings: Settings, signing_key: SigningKey, tiny_model: DiffusionModel
) -> None:
    response = signed_post(Client(), signing_key, command("imagine", prompt="a lighthouse"))

    assert response.json() == {"type": 5}
    assert Generation.objects.get().prompt == "a lighthouse"


def _refused(response: object) -> None:
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert not Generation.objects.exists()
    assert not User.objects.filter(profile__discord_user_id__isnull=False).exists()
    assert not DiscordMessage.objects.exists()


def test_a_tampered_body_is_refused(
    discord_settings: Settings, signing_key: SigningKey, tiny_model: DiffusionModel
) -> None:
    document = command("imagine", prompt="a lighthouse")
    tampered = json.dumps(command("imagine", prompt="something else")).encode()

    _refused(signed_post(Client(), signing_key, document, body=tampered))


def test_a_signature_by_another_key_is_refused(
    discord_settings: Settings, tiny_model: DiffusionModel
) -> None:
    _refused(signed_post(Client(), SigningKey.generate(), command("imagine", prompt="a ship")))


@pytest.mark.parametrize("missing", ["X-Signature-Ed25519", "X-Signature-Timestamp"])
def test_a_request_without_one_of_its_signature_headers_is_refused(
    discord_settings: Settings, signing_key: SigningKey, tiny_model: DiffusionModel, missing: str
) -> None:
    # Properly signed, so that only the missing header can be why it is refused.
    body = json.dumps(command("imagine", prompt="a ship")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "X-Signature-Ed25519": signing_key.sign(timestamp.encode() + body).signature.hex(),
        "X-Signature-Timestamp": timestamp,
    }
    del headers[missing]

    _refused(
        Client().post(
            "/discord/interactions/", data=body, content_type="application/json", headers=headers
        )
    )


def test_a_signature_six_minutes_old_is_refused(
    discord_settings: Settings, signing_key: SigningKey, tiny_model: DiffusionModel
) -> None:
    six_minutes_ago = time.time() - 6 * 60

    _refused(
        signed_post(
            Client(), signing_key, command("imagine", prompt="a ship"), signed_at=six_minutes_ago
        )
    )


def test_the_endpoint_is_not_there_when_discord_is_not_configured(
    settings: Settings, signing_key: SigningKey
) -> None:
    settings.DISCORD_APPLICATION_ID = ""

    response = signed_post(Client(), signing_key, {"type": 1, "id": "1", "token": "t"})

    assert response.status_code == 404
