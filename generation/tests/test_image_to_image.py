"""POST /api/v1/generations with an init image (one of this site's images, or a data URL),
a strength and a sampler: what is recorded, what the worker gets, and every refusal (nothing
charged)."""

import base64
import io
import os
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from billing.selectors import balance_for
from gallery.tests.factories import generation_make, picture_bytes
from generation.models import DiffusionModel, Generation
from generation.services import generations_delete_all
from testing.api import generation_post

SIGNUP_CREDITS = 10


def data_url(raw: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(raw).decode()}"


def stored_init_image(generation_id: str) -> Image.Image:
    generation = Generation.objects.get(id=generation_id)
    assert generation.init_image.name == f"init-images/{generation_id}.png"
    with default_storage.open(generation.init_image.name) as file:
        raw = file.read()
    assert raw.startswith(b"\x89PNG\r\n\x1a\n")
    picture = Image.open(io.BytesIO(raw))
    picture.load()
    return picture


@pytest.fixture
def priced_model(tiny_model: DiffusionModel) -> DiffusionModel:
    tiny_model.credits_per_image = 1
    tiny_model.credits_per_image_to_image = 3
    tiny_model.save()
    return tiny_model


def test_an_image_of_ones_own_gallery_starts_an_image_generation_at_its_size(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    source = generation_make(user=user, model=priced_model, size=(96, 64), pictures=True)

    response = generation_post(alice_client, init_image={"generation": str(source.id), "index": 0})

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["strength"], body["sampler"]) == ("image", 0.6, None)
    assert body["source"] == {"generation": str(source.id), "index": 0}
    assert (body["width"], body["height"]) == (96, 64)
    assert body["credits_charged"] == 3
    assert body["init_image_url"] == f"http://testserver/images/{body['id']}/init.png"
    assert balance_for(user) == SIGNUP_CREDITS - 3
    generation = Generation.objects.get(id=body["id"])
    assert generation.kind == Generation.Kind.IMAGE
    assert generation.source_image == source.images.get()
    assert stored_init_image(body["id"]).size == (96, 64)


def test_a_public_image_of_someone_else_can_be_started_from_at_another_size(
    alice_client: Client, user: User, other_user: User, priced_model: DiffusionModel
) -> None:
    source = generation_make(
        user=other_user, model=priced_model, pictures=True, is_public=True, share_token="t1"
    )

    response = generation_post(
        alice_client,
        init_image={"generation": str(source.id), "index": 0},
        width=128,
        height=96,
        strength=0.35,
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["strength"]) == ("image", 0.35)
    assert body["source"] == {"generation": str(source.id), "index": 0}
    assert stored_init_image(body["id"]).size == (128, 96)
    assert balance_for(user) == SIGNUP_CREDITS - 3
    assert balance_for(other_user) == SIGNUP_CREDITS


@pytest.mark.parametrize("index", [0, 1])
def test_another_users_private_image_is_missing_and_nothing_is_charged(
    alice_client: Client, user: User, other_user: User, priced_model: DiffusionModel, index: int
) -> None:
    source = generation_make(user=other_user, model=priced_model, pictures=True)
    own = generation_make(user=user, model=priced_model, pictures=True)
    target = source if index == 0 else own  # own: index 1 does not exist

    response = generation_post(
        alice_client, init_image={"generation": str(target.id), "index": index}
    )

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No such image.", "field": None}
    }
    assert balance_for(user) == SIGNUP_CREDITS
    assert not Generation.objects.filter(user=user, kind="image").exists()


def test_an_uploaded_image_is_re_encoded_as_a_png_at_its_size_rounded_to_multiples_of_8(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    jpeg = picture_bytes(101, 75, format="JPEG")

    response = generation_post(
        alice_client, init_image=data_url(jpeg, "image/jpeg"), sampler="euler_a"
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["source"], body["sampler"]) == ("image", None, "euler_a")
    assert (body["width"], body["height"]) == (96, 72)
    picture = stored_init_image(body["id"])
    assert (picture.size, picture.mode) == ((96, 72), "RGB")
    assert Generation.objects.get(id=body["id"]).sampler == "euler_a"
    assert balance_for(user) == SIGNUP_CREDITS - 3


def test_a_cameras_jpeg_with_a_second_picture_inside_is_a_jpeg(
    alice_client: Client, priced_model: DiffusionModel
) -> None:
    # PIL reads such a JPEG as "MPO"; browsers and cameras label it image/jpeg.
    mpo = io.BytesIO()
    first, second = Image.new("RGB", (64, 64), "red"), Image.new("RGB", (64, 64), "blue")
    first.save(mpo, format="MPO", save_all=True, append_images=[second])

    response = generation_post(alice_client, init_image=data_url(mpo.getvalue(), "image/jpeg"))

    assert response.status_code == 202, response.content
    assert stored_init_image(response.json()["id"]).size == (64, 64)


def test_an_uploaded_image_smaller_than_the_smallest_side_is_enlarged_to_it(
    alice_client: Client, priced_model: DiffusionModel
) -> None:
    response = generation_post(
        alice_client, init_image=data_url(picture_bytes(40, 200, format="WEBP"), "image/webp")
    )

    assert response.status_code == 202, response.content
    assert (response.json()["width"], response.json()["height"]) == (64, 200)
    assert stored_init_image(response.json()["id"]).size == (64, 200)


def test_the_owner_sees_the_init_image_and_nobody_else_does(
    alice_client: Client, bob_client: Client, client: Client, priced_model: DiffusionModel
) -> None:
    generation_id = generation_post(
        alice_client, init_image=data_url(picture_bytes(64, 64))
    ).json()["id"]
    url = f"/images/{generation_id}/init.png"

    own = alice_client.get(url)
    assert own.status_code == 200
    assert own["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(b"".join(own.streaming_content))).size == (64, 64)
    assert bob_client.get(url).status_code == 404
    assert client.get(url).status_code == 404


def test_deleting_the_generation_deletes_its_init_image(
    alice_client: Client, priced_model: DiffusionModel
) -> None:
    generation_id = generation_post(
        alice_client, init_image=data_url(picture_bytes(64, 64))
    ).json()["id"]
    name = Generation.objects.get(id=generation_id).init_image.name
    Generation.objects.filter(id=generation_id).update(status="canceled")

    assert alice_client.delete(f"/api/v1/generations/{generation_id}").status_code == 204

    assert not default_storage.exists(name)


def test_deleting_the_account_deletes_its_init_images(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    generation_id = generation_post(
        alice_client, init_image=data_url(picture_bytes(64, 64))
    ).json()["id"]
    name = Generation.objects.get(id=generation_id).init_image.name

    generations_delete_all(user=user)

    assert not default_storage.exists(name)


GIF = picture_bytes(64, 64, format="GIF")
BIG_PNG = picture_bytes(520, 64)
TEXT = b"just a text file, not an image\n"


@pytest.mark.parametrize(
    ("init_image", "code", "message"),
    [
        (
            "data:image/png;base64,@@@not base64@@@",
            "invalid_base64",
            "Init image is not valid base64.",
        ),
        (
            data_url(TEXT),
            "invalid_image",
            "Init image could not be read as a PNG, JPEG or WebP image.",
        ),
        (
            data_url(picture_bytes(64, 64)[:60]),
            "invalid_image",
            "Init image could not be read as a PNG, JPEG or WebP image.",
        ),
        (
            data_url(GIF),
            "invalid_image",
            "Init image could not be read as a PNG, JPEG or WebP image.",
        ),
        (
            data_url(picture_bytes(64, 64, format="JPEG")),
            "image_type_mismatch",
            "Init image is a JPEG image but its data URL says image/png: send it as "
            "data:image/jpeg;base64,...",
        ),
        (
            data_url(picture_bytes(64, 64), "image/webp"),
            "image_type_mismatch",
            "Init image is a PNG image but its data URL says image/webp: send it as "
            "data:image/png;base64,...",
        ),
        (
            data_url(GIF, "image/gif"),
            "unsupported_image_type",
            "Init image must be a PNG, JPEG or WebP image (data:image/png, data:image/jpeg or "
            "data:image/webp), not image/gif.",
        ),
        (
            data_url(TEXT, "text/plain"),
            "unsupported_image_type",
            "Init image must be a PNG, JPEG or WebP image (data:image/png, data:image/jpeg or "
            "data:image/webp), not text/plain.",
        ),
        (
            "data:image/png,%89PNG",
            "not_base64",
            "Init image must be base64-encoded (data:image/png;base64,...).",
        ),
        (
            "https://example.com/cat.png",
            "not_a_data_url",
            'Init image must be a data URL (data:image/png;base64,...) or {"generation": id, '
            '"index": n}.',
        ),
        (
            data_url(BIG_PNG),
            "image_too_large",
            "Init image must be at most 512x512 pixels for this model (it is 520x64).",
        ),
        (
            data_url(os.urandom(4 * 1024 * 1024 + 100_000)),
            "image_too_large",
            "Init image must be at most 4 MB (it has 4.1 MB).",
        ),
    ],
)
def test_an_init_image_that_is_not_a_usable_image_is_refused_and_nothing_charged(
    alice_client: Client,
    user: User,
    priced_model: DiffusionModel,
    init_image: str,
    code: str,
    message: str,
) -> None:
    response = generation_post(alice_client, init_image=init_image)

    assert response.status_code == 400
    assert response.json() == {"error": {"code": code, "message": message, "field": "init_image"}}
    assert balance_for(user) == SIGNUP_CREDITS
    assert not Generation.objects.exists()


def test_an_init_image_of_the_wrong_shape_is_refused(
    alice_client: Client, priced_model: DiffusionModel
) -> None:
    for init_image in (42, {"generation": "nope", "index": 0}, {"generation": None}):
        response = generation_post(alice_client, init_image=init_image)

        assert response.status_code == 400, init_image
        assert response.json()["error"]["field"] == "init_image"


def test_a_body_over_the_submission_limit_is_413_in_the_error_shape(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    response = generation_post(alice_client, init_image="data:image/png;base64," + "A" * 6_300_000)

    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "body_too_large",
            "message": "The request body is too large.",
            "field": None,
        }
    }
    assert balance_for(user) == SIGNUP_CREDITS


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"strength": 0.01}, "out_of_range", "Strength must be between 0.05 and 1."),
        ({"strength": 1.5}, "out_of_range", "Strength must be between 0.05 and 1."),
        ({"strength": "strong"}, "not_a_number", "Strength must be a number."),
        # 4 steps x 0.2 is no step at all: diffusers would refuse it on the worker.
        (
            {"strength": 0.2, "steps": 4},
            "no_steps_would_run",
            "With 4 steps, strength must be at least 0.25: at least one step has to run.",
        ),
    ],
)
def test_a_strength_out_of_range_is_refused(
    alice_client: Client,
    user: User,
    priced_model: DiffusionModel,
    fields: dict[str, Any],
    code: str,
    message: str,
) -> None:
    response = generation_post(alice_client, init_image=data_url(picture_bytes(64, 64)), **fields)

    assert response.status_code == 400
    assert response.json() == {"error": {"code": code, "message": message, "field": "strength"}}
    assert balance_for(user) == SIGNUP_CREDITS


def test_a_strength_without_an_init_image_is_refused(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    response = generation_post(alice_client, strength=0.5)

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "strength_without_init_image",
            "message": "Strength applies only when starting from an image: send init_image too.",
            "field": "strength",
        }
    }
    assert balance_for(user) == SIGNUP_CREDITS


def test_a_sampler_is_recorded_and_an_unknown_one_is_refused(
    alice_client: Client, priced_model: DiffusionModel
) -> None:
    named = generation_post(alice_client, sampler="dpmpp_2m_karras")
    default = generation_post(alice_client)
    unknown = generation_post(alice_client, sampler="k_lms")

    assert named.status_code == 202
    assert named.json()["sampler"] == "dpmpp_2m_karras"
    assert (named.json()["kind"], named.json()["strength"], named.json()["source"]) == (
        "text",
        None,
        None,
    )
    assert Generation.objects.get(id=named.json()["id"]).sampler == "dpmpp_2m_karras"
    assert default.json()["sampler"] is None
    assert Generation.objects.get(id=default.json()["id"]).sampler == ""
    assert unknown.status_code == 400
    assert unknown.json() == {
        "error": {
            "code": "invalid_choice",
            "message": "Sampler must be one of: euler, euler_a, dpmpp_2m, dpmpp_2m_karras, ddim, "
            "unipc, lcm.",
            "field": "sampler",
        }
    }


def test_a_text_generation_costs_the_models_price_per_image(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    response = generation_post(alice_client, count=2)

    assert response.json()["credits_charged"] == 2
    assert response.json()["init_image_url"] is None
    assert balance_for(user) == SIGNUP_CREDITS - 2


def test_a_retry_with_the_same_init_image_and_key_is_charged_once(
    alice_client: Client, user: User, priced_model: DiffusionModel
) -> None:
    body = {"init_image": data_url(picture_bytes(64, 64))}
    headers = {"Idempotency-Key": "upload-1"}

    first = generation_post(alice_client, headers, **body)
    second = generation_post(alice_client, headers, **body)
    other = generation_post(alice_client, headers, init_image=data_url(picture_bytes(72, 64)))

    assert first.json()["id"] == second.json()["id"]
    assert other.status_code == 409
    assert balance_for(user) == SIGNUP_CREDITS - 3
