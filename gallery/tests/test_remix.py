"""Remix: the generate page opens with a past generation's settings, with a new seed unless the
same one is asked for."""

import json
import re
from typing import Any

from django.test import Client

from gallery.tests.factories import generation_make
from generation.models import DiffusionModel


def _remix_data(html: str) -> Any:
    match = re.search(r'<script id="remix-data" type="application/json">(.*?)</script>', html)
    return json.loads(match.group(1)) if match else None


def test_remix_prefills_the_form_with_a_new_seed(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(
        user=user, model=tiny_model, prompt="a lighthouse", negative_prompt="fog", seed=99
    )

    html = alice_client.get(f"/?remix={generation.id}").content.decode()

    assert _remix_data(html) == {
        "id": str(generation.id),
        "prompt": "a lighthouse",
        "negative_prompt": "fog",
        "model": "tiny-demo",
        "width": 64,
        "height": 64,
        "steps": 4,
        "guidance": 7.5,
        "count": 1,
        "seed": None,
        "sampler": None,
    }


def test_remix_can_keep_the_same_seed(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model, seed=99)

    html = alice_client.get(f"/?remix={generation.id}&same_seed=1").content.decode()

    assert _remix_data(html)["seed"] == 99


def test_remix_keeps_the_sampler(
    alice_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    generation = generation_make(user=user, model=tiny_model, sampler="euler_a")

    html = alice_client.get(f"/?remix={generation.id}").content.decode()

    assert _remix_data(html)["sampler"] == "euler_a"


def test_another_users_private_generation_cannot_be_remixed_but_a_public_one_can(
    bob_client: Client, user: Any, tiny_model: DiffusionModel
) -> None:
    private = generation_make(user=user, model=tiny_model, prompt="secret")
    public = generation_make(
        user=user, model=tiny_model, prompt="shared", is_public=True, share_token="t" * 22
    )

    assert _remix_data(bob_client.get(f"/?remix={private.id}").content.decode()) is None
    assert _remix_data(bob_client.get(f"/?remix={public.id}").content.decode())["prompt"] == (
        "shared"
    )
    assert _remix_data(bob_client.get("/?remix=not-a-uuid").content.decode()) is None
