"""The compatible APIs are tried with the clients people use (the `openai` SDK and `webuiapi`)
against the site's real servers, with real GPU worker processes on the tiny model."""

import io

import pytest
from django.contrib.auth.models import User
from PIL import Image

from accounts.services import api_key_create


@pytest.fixture
def api_key(user: User) -> str:
    _, key = api_key_create(user=user, name="tools")
    return key


def png_of(width: int, height: int, colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def image_size(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return image.size
