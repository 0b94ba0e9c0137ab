"""The official `openai` SDK pointed at the site's /v1/: images from a prompt, as links and as
base64, edits and variations from an upload, the models, and every refusal in OpenAI's shape,
charged and refunded exactly as the site's own API."""

import base64
import io
from pathlib import Path

import httpx
import openai
import pytest
from django.contrib.auth.models import User
from PIL import Image

from billing.selectors import balance_for
from compat.tests.conftest import image_size, png_of
from generation.models import DiffusionModel, Generation
from generation.png_parameters import parameters_parse
from generation.schemas import GenerationRequest
from generation.services import generation_submit
from rollerai.settings import SIGNUP_CREDITS
from testing.processes import RunningProcess, SiteURL, web_server_start


def client_for(site: SiteURL, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{site.live_url}/v1", api_key=key, max_retries=0, timeout=120)


@pytest.mark.usefixtures("transactional_db")
def test_the_sdk_makes_images_edits_and_variations_that_land_in_the_gallery(
    web_server: SiteURL,
    gpu_worker: RunningProcess,
    tiny_model: DiffusionModel,
    user: User,
    api_key: str,
) -> None:
    client = client_for(web_server, api_key)
    assert [model.id for model in client.models.list()] == ["tiny-demo"]
    assert client.models.retrieve("tiny-demo").owned_by == "rollerai"

    made = client.images.generate(
        model="tiny-demo",
        prompt="a red kite over dunes",
        n=2,
        size="64x96",
        response_format="b64_json",
    )
    pngs = [base64.b64decode(image.b64_json or "") for image in made.data]
    assert [image_size(png) for png in pngs] == [(64, 96), (64, 96)]
    assert made.data[0].revised_prompt == "a red kite over dunes"
    with Image.open(io.BytesIO(pngs[0])) as first:
        assert parameters_parse(first.info["parameters"])["prompt"] == "a red kite over dunes"

    # A link works without signing in, as OpenAI's do.
    linked = client.images.generate(prompt="a lantern in fog", size="64x64")
    url = linked.data[0].url or ""
    assert image_size(httpx.get(url).content) == (64, 64)
    assert httpx.get(url.replace(".png", "x.png")).status_code == 404

    edited = client.images.edit(
        image=("start.png", png_of(80, 64)), prompt="the same, at night", response_format="b64_json"
    )
    assert image_size(base64.b64decode(edited.data[0].b64_json or "")) == (80, 64)
    varied = client.images.create_variation(
        image=("kite.png", pngs[0]), n=2, response_format="b64_json"
    )
    assert len(varied.data) == 2
    # A variation of an image from here keeps its prompt (read from the PNG's settings).
    assert varied.data[0].revised_prompt == "a red kite over dunes"

    generations = Generation.objects.filter(user=user).order_by("created_at")
    assert [(g.kind, g.count, g.origin, g.status) for g in generations] == [
        ("text", 2, "api", "succeeded"),
        ("text", 1, "api", "succeeded"),
        ("image", 1, "api", "succeeded"),
        ("image", 2, "api", "succeeded"),
    ]
    assert balance_for(user) == SIGNUP_CREDITS - sum(g.credits_charged for g in generations)
    assert (
        sum(g.credits_charged for g in generations)
        == 3 * tiny_model.credits_per_image + 3 * tiny_model.credits_per_image_to_image
    )


@pytest.mark.usefixtures("transactional_db", "tiny_model")
def test_bad_input_and_a_wrong_key_are_refused_in_openais_shape_and_cost_nothing(
    web_server: SiteURL, user: User, api_key: str
) -> None:
    client = client_for(web_server, api_key)
    with pytest.raises(openai.BadRequestError) as refused:
        client.images.generate(prompt="a kite", size="63x64")
    assert _error(refused.value)["param"] == "size"

    with pytest.raises(openai.BadRequestError) as refused:
        client.images.generate(prompt="a kite", size="huge")
    assert _error(refused.value)["param"] == "size"

    with pytest.raises(openai.BadRequestError) as refused:
        client.images.generate(prompt="a kite", n=5)
    assert _error(refused.value)["param"] == "n"

    with pytest.raises(openai.BadRequestError) as refused:
        client.images.generate(prompt="k" * 1001)
    assert _error(refused.value)["param"] == "prompt"

    with pytest.raises(openai.NotFoundError) as missing:
        client.images.generate(prompt="a kite", model="dall-e-3")
    assert _error(missing.value)["code"] == "model_not_found"

    with pytest.raises(openai.BadRequestError) as refused:
        client.images.edit(
            image=("a.png", png_of(64, 64)), mask=("m.png", png_of(64, 64)), prompt="x"
        )
    assert _error(refused.value)["param"] == "mask"

    with pytest.raises(openai.BadRequestError) as refused:
        client.images.edit(image=("a.png", b"not an image at all"), prompt="a kite")
    assert _error(refused.value)["param"] == "image"

    with pytest.raises(openai.AuthenticationError) as unknown:
        client_for(web_server, "rk_not_a_key").images.generate(prompt="a kite")
    assert _error(unknown.value)["code"] == "invalid_api_key"

    assert balance_for(user) == SIGNUP_CREDITS
    assert not Generation.objects.exists()


@pytest.mark.usefixtures("transactional_db", "tiny_model")
def test_no_credits_is_openais_insufficient_quota_and_queues_nothing(
    web_server: SiteURL, user: User, api_key: str
) -> None:
    # Two generations of 4 wait in line (no GPU is up), leaving 2 credits.
    for _ in range(2):
        generation_submit(user=user, data=GenerationRequest(prompt="a kite", count=4))
    client = client_for(web_server, api_key)
    with pytest.raises(openai.RateLimitError) as refused:
        client.images.generate(prompt="a kite", n=4, size="64x64")
    assert balance_for(user) == SIGNUP_CREDITS - 8
    assert Generation.objects.count() == 2
    error = _error(refused.value)
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
    # The SDK is told not to retry what a retry cannot cure.
    assert refused.value.response.headers["x-should-retry"] == "false"


def _error(error: openai.APIStatusError) -> dict[str, str]:
    body = error.body
    assert isinstance(body, dict), body
    return body


@pytest.fixture
def unloadable_model(tiny_model: DiffusionModel) -> DiffusionModel:
    """Made before the worker starts, so that it serves it (and fails to load it)."""
    return DiffusionModel.objects.create(
        slug="missing", name="Missing", source="/no/such/model/folder"
    )


@pytest.mark.usefixtures("transactional_db")
def test_a_generation_that_fails_is_a_500_not_retried_and_its_credits_come_back(
    web_server: SiteURL,
    unloadable_model: DiffusionModel,
    gpu_worker: RunningProcess,
    user: User,
    api_key: str,
) -> None:
    with pytest.raises(openai.InternalServerError) as failed:
        # The SDK's own retries are on: the answer tells it not to.
        client_for(web_server, api_key).with_options(max_retries=2).images.generate(
            model="missing", prompt="a kite", size="64x64"
        )
    assert failed.value.response.headers["x-should-retry"] == "false"
    assert "could not be loaded" in failed.value.message
    assert "credits came back" in failed.value.message
    (generation,) = Generation.objects.all()
    assert generation.status == Generation.Status.FAILED
    assert balance_for(user) == SIGNUP_CREDITS


@pytest.mark.usefixtures("transactional_db", "tiny_model")
def test_the_rate_limit_is_a_429_with_retry_after_in_both_apis(
    user: User, api_key: str, tmp_path: Path
) -> None:
    live, url = web_server_start(
        tmp_path / "live.log", env={"SUBMISSIONS_PER_MINUTE": "1", "COMPAT_WAIT_SECONDS": "0"}
    )
    try:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=api_key, max_retries=0)
        with pytest.raises(openai.APIStatusError) as waited:
            client.images.generate(prompt="a kite", size="64x64")
        with pytest.raises(openai.RateLimitError) as limited:
            client.images.generate(prompt="a kite", size="64x64")
        sdapi = httpx.post(
            f"{url}/sdapi/v1/txt2img", json={"prompt": "a kite"}, auth=("me", api_key)
        )
    finally:
        live.stop()
    assert waited.value.status_code == 504
    assert _error(limited.value)["code"] == "rate_limit_exceeded"
    assert int(limited.value.response.headers["Retry-After"]) > 0
    assert "x-should-retry" not in limited.value.response.headers
    assert sdapi.status_code == 429
    assert int(sdapi.headers["Retry-After"]) > 0
    # Only the first was let in, and charged.
    assert Generation.objects.count() == 1
