"""POST /api/v1/generations/<id>/variations and /upscale: new generations from one of the
caller's own (or a public) images, of their kind, size and count, charged at the model's price
for that kind."""

import io
import json
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from billing.selectors import balance_for
from gallery.tests.factories import generation_make
from generation.models import DiffusionModel, Generation

SIGNUP_CREDITS = 10


def post(client: Client, generation: Any, action: str, **body: Any) -> Any:
    generation_id = generation.id if isinstance(generation, Generation) else generation
    return client.post(
        f"/api/v1/generations/{generation_id}/{action}",
        data=json.dumps(body),
        content_type="application/json",
    )


def init_size(generation_id: str) -> tuple[int, int]:
    name = Generation.objects.get(id=generation_id).init_image.name
    with default_storage.open(name) as file:
        return Image.open(io.BytesIO(file.read())).size


@pytest.fixture
def priced_model(tiny_model: DiffusionModel) -> DiffusionModel:
    tiny_model.credits_per_image = 1
    tiny_model.credits_per_image_to_image = 2
    tiny_model.credits_per_upscale = 3
    tiny_model.save()
    return tiny_model


def test_variations_are_four_new_images_of_the_same_settings_from_that_image(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    source = generation_make(
        user=user,
        model=priced_model,
        images=2,
        pictures=True,
        negative_prompt="blurry",
        sampler="ddim",
        seed=77,
    )

    response = post(alice_client, source, "variations", index=1)

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["count"], body["strength"]) == ("variations", 4, 0.5)
    assert (body["prompt"], body["negative_prompt"], body["sampler"]) == (
        "a lighthouse at dawn",
        "blurry",
        "ddim",
    )
    assert (body["width"], body["height"], body["steps"], body["guidance"]) == (64, 64, 4, 7.5)
    assert body["seed"] != 77
    assert body["source"] == {"generation": str(source.id), "index": 1}
    assert body["credits_charged"] == 8
    assert balance_for(user) == SIGNUP_CREDITS - 8
    assert init_size(body["id"]) == (64, 64)


def test_fewer_variations_cost_less(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    source = generation_make(user=user, model=priced_model, pictures=True)

    body = post(alice_client, source, "variations", count=1).json()

    assert (body["count"], body["credits_charged"]) == (1, 2)
    assert balance_for(user) == SIGNUP_CREDITS - 2


def test_an_upscale_of_a_64_pixel_image_is_one_128_pixel_image_from_it_enlarged(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    source = generation_make(user=user, model=priced_model, pictures=True, seed=4242)

    response = post(alice_client, source, "upscale")

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["count"], body["strength"]) == ("upscale", 1, 0.3)
    assert (body["width"], body["height"], body["seed"]) == (128, 128, 4242)
    assert body["source"] == {"generation": str(source.id), "index": 0}
    assert body["credits_charged"] == 3
    assert balance_for(user) == SIGNUP_CREDITS - 3
    assert init_size(body["id"]) == (128, 128)


def test_an_upscale_stops_at_the_models_largest_size_keeping_the_shape(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    source = generation_make(user=user, model=priced_model, size=(320, 192), pictures=True)

    body = post(alice_client, source, "upscale").json()

    # x1.6, as far as the model's 512 allows: 320 x 192 -> 512 x 307.2, down to a multiple of 8.
    assert (body["width"], body["height"]) == (512, 304)
    assert init_size(body["id"]) == (512, 304)


def test_an_image_already_at_the_largest_size_is_not_upscaled(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    source = generation_make(user=user, model=priced_model, size=(512, 256), pictures=True)

    response = post(alice_client, source, "upscale")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "cannot_upscale",
            "message": "This image is already as large as Tiny demo makes them (512x512).",
            "field": None,
        }
    }
    assert balance_for(user) == SIGNUP_CREDITS


@pytest.mark.parametrize("action", ["variations", "upscale"])
def test_a_public_image_of_someone_else_is_charged_to_the_caller(
    alice_client: Client,
    user: User,
    other_user: User,
    priced_model: DiffusionModel,
    action: str,
) -> None:
    source = generation_make(
        user=other_user, model=priced_model, pictures=True, is_public=True, share_token="s1"
    )

    response = post(alice_client, source, action)

    assert response.status_code == 202, response.content
    assert Generation.objects.get(id=response.json()["id"]).user == user
    assert balance_for(user) == SIGNUP_CREDITS - (8 if action == "variations" else 3)
    assert balance_for(other_user) == SIGNUP_CREDITS


@pytest.mark.parametrize("action", ["variations", "upscale"])
def test_another_users_private_image_or_a_missing_one_is_404_and_nothing_is_charged(
    alice_client: Client,
    user: User,
    other_user: User,
    priced_model: DiffusionModel,
    action: str,
) -> None:
    private = generation_make(user=other_user, model=priced_model, pictures=True)
    own = generation_make(user=user, model=priced_model, pictures=True)
    failed = generation_make(user=user, model=priced_model, status="failed")

    for generation, index in ((private, 0), (own, 1), (failed, 0), (uuid.uuid4(), 0)):
        response = post(alice_client, generation, action, index=index)

        assert response.status_code == 404, (generation, index)
        assert response.json()["error"]["code"] == "not_found"
    assert balance_for(user) == SIGNUP_CREDITS
    assert Generation.objects.filter(user=user).count() == 2


@pytest.mark.parametrize(
    ("action", "body", "field", "code"),
    [
        ("variations", {"count": 5}, "count", "out_of_range"),
        ("variations", {"count": 0}, "count", "out_of_range"),
        ("variations", {"index": -1}, "index", "out_of_range"),
        ("upscale", {"count": 2}, "count", "unknown_field"),
        ("upscale", {"index": "first"}, "index", "not_an_integer"),
    ],
)
def test_invalid_shorthand_bodies_are_refused(
    alice_client: Client,
    user: User,
    priced_model: DiffusionModel,
    action: str,
    body: dict[str, Any],
    field: str,
    code: str,
) -> None:
    source = generation_make(user=user, model=priced_model, pictures=True)

    response = post(alice_client, source, action, **body)

    assert response.status_code == 400
    assert (response.json()["error"]["field"], response.json()["error"]["code"]) == (field, code)
    assert balance_for(user) == SIGNUP_CREDITS


def test_the_shorthands_need_signing_in(
    client: Client, user: User, priced_model: DiffusionModel
) -> None:
    source = generation_make(user=user, model=priced_model, pictures=True)

    for action in ("variations", "upscale"):
        assert post(client, source, action).status_code == 401


def test_not_enough_credits_is_402_and_nothing_is_made(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    priced_model.credits_per_image_to_image = 3
    priced_model.save()
    source = generation_make(user=user, model=priced_model, pictures=True)

    response = post(alice_client, source, "variations")

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_credits"
    assert balance_for(user) == SIGNUP_CREDITS
    assert Generation.objects.filter(user=user).count() == 1


def test_the_models_list_shows_the_price_of_each_kind(
    alice_client: Client, priced_model: DiffusionModel
) -> None:
    priced_model.default_sampler = "euler_a"
    priced_model.save()

    [model] = alice_client.get("/api/v1/models").json()["results"]

    assert (
        model["credits_per_image"],
        model["credits_per_image_to_image"],
        model["credits_per_upscale"],
        model["default_sampler"],
    ) == (1, 2, 3, "euler_a")


def test_an_upscale_of_a_few_step_image_still_runs_a_step(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    # Strength 0.3 of 2 steps would run none (diffusers runs int(steps x strength) of them).
    source = generation_make(user=user, model=priced_model, pictures=True, steps=2)

    response = post(alice_client, source, "upscale")

    assert response.status_code == 202, response.content
    assert response.json()["steps"] == 4
